"""Builds any family's layer configured as a plain convolution with a given kernel.

Families with a ``hard_sharing_hp`` dict get those options and their ``kernel`` (and ``bias``)
weights set (``lrlc``'s spatial bias gets the per-filter bias as its row term);
``locally_connected`` gets the kernel copied to every position; ``coordconv``
gets zero weights on its two coordinate channels.
"""

from __future__ import annotations

import numpy as np

import layers


def hard_shared_layer(family_name: str, kernel: np.ndarray, input_shape, strides=1, padding="valid", bias=None):
    """A built layer of ``family_name`` computing conv(x, kernel) + bias.

    Args:
        kernel: [kh, kw, C, F].
        input_shape: (H, W, C).
        bias: [F] or None (zeros).
    """
    family = layers.get_family(family_name)
    kh, kw, c, f = kernel.shape
    bias = np.zeros(f, "float32") if bias is None else np.asarray(bias, "float32")
    hp = family.hard_sharing_hp if isinstance(family.hard_sharing_hp, dict) else {}
    layer = family.build(f, (kh, kw), strides, padding, **hp)
    layer.build((None,) + tuple(input_shape))

    if isinstance(layer, layers.LocallyConnected2D):
        oh, ow = layer.out_hw
        layer.kernel.assign(np.tile(kernel.reshape(1, kh * kw * c, f), (oh * ow, 1, 1)))
        layer.bias.assign(np.broadcast_to(bias, (oh, ow, f)))
    elif isinstance(layer, layers.LowRankLocallyConnected2D):
        # One basis kernel; its bias is spatial (row + column terms), so a per-filter bias
        # goes into the row term and the column term stays zero.
        layer.kernel.assign(kernel)
        layer.row_bias.assign(np.broadcast_to(bias, layer.row_bias.shape))
        layer.col_bias.assign(np.zeros(layer.col_bias.shape, "float32"))
    elif isinstance(layer, layers.CoordConv2D):
        with_coords = np.concatenate([kernel, np.zeros((kh, kw, 2, f), kernel.dtype)], axis=2)
        layer.conv.kernel.assign(with_coords)
        layer.conv.bias.assign(bias)
    else:
        assert family.hard_sharing_hp is not None, f"{family_name} declares no hard-sharing configuration"
        weights = {w.path.split("/")[-1]: w for w in layer.weights}
        weights["kernel"].assign(kernel)
        if "bias" in weights:
            weights["bias"].assign(bias)
    return layer
