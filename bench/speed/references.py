"""Literal reference formulations the fast layers are timed and tested against.

Each function computes a layer's output the way the original formulation does, in plain
TensorFlow, from the layer's own weights (so a training step differentiates the same
variables). None of them reuses code from ``layers/``: they are the yardstick, written
from the definitions in the layers' module docstrings (SISWS as the original layer defines
it) and their documented storage conventions (channel k·S + s of a SISWS kernel is
kernel–centroid pair s of filter k; channel k·rank + r of an LRLC kernel is basis kernel r
of filter k).

A family chooses its yardstick by name (``SpeedSpec.reference``): a key of
:data:`REFERENCES`, or :data:`TF_KERAS` for tf_keras's own LocallyConnected2D. On another
backend than TensorFlow the same names give the ``keras.ops`` ports of these functions
(:mod:`bench.speed.ops_references`).
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

#: The reference that is not a formulation here but tf_keras's LocallyConnected2D
#: (implementations 1, 2, 3; the fastest is the reference).
TF_KERAS = "tf_keras"


def _conv(layer, x):
    """The one shared convolution every soft-sharing formulation starts from (no bias)."""
    return tf.nn.conv2d(x, layer.kernel, strides=list(layer.strides), padding=layer.padding.upper())


def sisws_reference(layer, x):
    """SISWS as the original layer computes it.

    One convolution with K·S filters, reshaped to [B, H, W, K, S], multiplied by the
    similarities S_s(i, j) = exp(−‖A_s (c_s − p_ij)‖²) (divided by their sum over S when
    the layer normalises), then reduce_sum over S.

    Args:
        layer: a built ``layers.SISWS2D`` whose weights are used.
        x: input [B, H, W, C].

    Returns:
        The layer's output [B, out_h, out_w, K].
    """
    k, s = layer.filters, layer.n_kcp
    oh, ow = layer.out_hw
    conv = _conv(layer, x)
    if layer.use_bias:
        conv = conv + layer.bias
    conv = tf.reshape(conv, [-1, oh, ow, k, s])
    ys = tf.linspace(0.0, layer.scale, oh)
    xs = tf.linspace(0.0, layer.scale, ow)
    yy, xx = tf.meshgrid(ys, xs, indexing="ij")
    cells = tf.stack([xx, yy], axis=-1)  # [oh, ow, 2] as (x, y)
    diff = layer.centroids[None, None] - cells[:, :, None, None, :]  # [oh, ow, F, S, 2]
    mapped = tf.einsum("fsij,hwfsj->hwfsi", tf.convert_to_tensor(layer.bandwidth), diff)
    sim = tf.exp(-tf.reduce_sum(tf.square(mapped), axis=-1))  # [oh, ow, F, S]
    if layer.local_normalization:
        sim = sim / tf.reduce_sum(sim, axis=-1, keepdims=True)
    out = tf.reduce_sum(conv * sim, axis=-1)
    return layer.activation(out)


def lrlc_reference(layer, x):
    """Low-rank locally connected as Elsayed et al. describe it.

    One convolution with K·rank filters, reshaped to [B, H, W, K, rank], weighted by the
    softmax (over the rank) of the row + column logits (or the per-position logits), summed
    over the rank, plus the spatial bias.

    Args:
        layer: a built ``layers.LowRankLocallyConnected2D`` whose weights are used.
        x: input [B, H, W, C].

    Returns:
        The layer's output [B, out_h, out_w, K].
    """
    oh, ow = layer.out_hw
    conv = tf.reshape(_conv(layer, x), [-1, oh, ow, layer.filters, layer.rank])
    if layer.mixing == "row_col":
        logits = layer.row_logits + layer.col_logits
    else:
        logits = tf.convert_to_tensor(layer.logits)
    alpha = tf.nn.softmax(logits, axis=-1)  # [oh, ow, rank]
    out = tf.reduce_sum(conv * alpha[:, :, None, :], axis=-1)
    if layer.use_bias:
        out = out + (layer.row_bias + layer.col_bias if layer.mixing == "row_col" else layer.position_bias)
    return layer.activation(out)


def locally_connected_reference(layer, x):
    """A locally connected layer through ``tf.image.extract_patches`` and one einsum.

    Args:
        layer: a built ``layers.LocallyConnected2D`` (kernel [out_h·out_w, kh·kw·C, F]).
        x: input [B, H, W, C].

    Returns:
        The layer's output [B, out_h, out_w, F].
    """
    kh, kw = layer.kernel_size
    sh, sw = layer.strides
    oh, ow = layer.out_hw
    patches = tf.image.extract_patches(x, sizes=[1, kh, kw, 1], strides=[1, sh, sw, 1], rates=[1, 1, 1, 1],
                                       padding=layer.padding.upper())  # [B, oh, ow, kh·kw·C], (kh, kw, C) order
    kernel = tf.reshape(layer.kernel, [oh, ow, kh * kw * int(x.shape[-1]), layer.filters])
    out = tf.einsum("bhwd,hwdf->bhwf", patches, kernel)
    if layer.use_bias:
        out = out + layer.bias
    return layer.activation(out)


#: Reference name → ``(built layer, x) -> output``.
REFERENCES = {"sisws": sisws_reference, "lrlc": lrlc_reference, "locally_connected": locally_connected_reference}


def reference_function(reference, family_name: str, backend: str = "tensorflow") -> Callable:
    """The function a family's ``SpeedSpec.reference`` names (or is), for Keras ``backend``:
    the TensorFlow original on TensorFlow, its ``keras.ops`` port on any other backend.

    Raises:
        ValueError: an unknown name, listing the known ones.
    """
    if callable(reference):
        return reference
    if reference not in REFERENCES:
        raise ValueError(f"family {family_name!r} names speed reference {reference!r}: known references are "
                         f"{sorted(REFERENCES) + [TF_KERAS]}, or give a callable (layer, x) -> output.")
    if backend != "tensorflow":
        from bench.speed.ops_references import OPS_REFERENCES

        return OPS_REFERENCES[reference]
    return REFERENCES[reference]
