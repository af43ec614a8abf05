"""The literal reference formulations of :mod:`bench.speed.references`, in ``keras.ops``.

The same computations, step for step, written with ``keras.ops`` so they run on any Keras
backend: ``wsbench speed --backend jax`` times the layers against these. On TensorFlow the
originals in plain TensorFlow stay the yardstick (the published TensorFlow ratios were
measured against them); ``tests/test_speed_backends.py`` checks that each port gives the
original's outputs and gradients.
"""

from __future__ import annotations

from keras import ops


def _conv(layer, x):
    """The one shared convolution every soft-sharing formulation starts from (no bias)."""
    return ops.conv(x, layer.kernel, strides=tuple(layer.strides), padding=layer.padding)


def sisws_reference(layer, x):
    """SISWS as the original layer computes it (see ``references.sisws_reference``): one K·S
    convolution, reshaped to [B, H, W, K, S], times the similarities, summed over S."""
    k, s = layer.filters, layer.n_kcp
    oh, ow = layer.out_hw
    conv = _conv(layer, x)
    if layer.use_bias:
        conv = conv + layer.bias
    conv = ops.reshape(conv, (-1, oh, ow, k, s))
    yy, xx = ops.meshgrid(ops.linspace(0.0, layer.scale, oh), ops.linspace(0.0, layer.scale, ow), indexing="ij")
    cells = ops.stack([xx, yy], axis=-1)  # [oh, ow, 2] as (x, y)
    diff = ops.convert_to_tensor(layer.centroids)[None, None] - cells[:, :, None, None, :]  # [oh, ow, F, S, 2]
    mapped = ops.einsum("fsij,hwfsj->hwfsi", ops.convert_to_tensor(layer.bandwidth), diff)
    sim = ops.exp(-ops.sum(ops.square(mapped), axis=-1))  # [oh, ow, F, S]
    if layer.local_normalization:
        sim = sim / ops.sum(sim, axis=-1, keepdims=True)
    return layer.activation(ops.sum(conv * sim, axis=-1))


def lrlc_reference(layer, x):
    """Low-rank locally connected as Elsayed et al. describe it (see ``references.lrlc_reference``):
    one K·rank convolution, weighted by the softmax over the rank of the logits, summed."""
    oh, ow = layer.out_hw
    conv = ops.reshape(_conv(layer, x), (-1, oh, ow, layer.filters, layer.rank))
    if layer.mixing == "row_col":
        logits = layer.row_logits + layer.col_logits
    else:
        logits = ops.convert_to_tensor(layer.logits)
    alpha = ops.softmax(logits, axis=-1)  # [oh, ow, rank]
    out = ops.sum(conv * alpha[:, :, None, :], axis=-1)
    if layer.use_bias:
        out = out + (layer.row_bias + layer.col_bias if layer.mixing == "row_col" else layer.position_bias)
    return layer.activation(out)


def locally_connected_reference(layer, x):
    """A locally connected layer through ``keras.ops.image.extract_patches`` and one einsum
    (see ``references.locally_connected_reference``; patches come in (kh, kw, C) order)."""
    kh, kw = layer.kernel_size
    oh, ow = layer.out_hw
    patches = ops.image.extract_patches(x, (kh, kw), strides=tuple(layer.strides), padding=layer.padding)
    kernel = ops.reshape(layer.kernel, (oh, ow, kh * kw * int(x.shape[-1]), layer.filters))
    out = ops.einsum("bhwd,hwdf->bhwf", patches, kernel)
    if layer.use_bias:
        out = out + layer.bias
    return layer.activation(out)


#: Reference name → ``(built layer, x) -> output``, on any backend.
OPS_REFERENCES = {"sisws": sisws_reference, "lrlc": lrlc_reference, "locally_connected": locally_connected_reference}
