"""``lrlc``: low-rank locally connected (Elsayed et al., ICML 2020).

``rank`` basis kernels share one convolution with K·rank filters. Each output position
mixes them with softmax weights α_r(i, j) over the rank; by default the logits are a row
term plus a column term (``mixing='row_col'``), or one logit per position
(``mixing='position'``). Zero logits give α = 1/rank everywhere, so the layer starts as a
plain convolution with the mean kernel. The bias is spatial: row + column terms, or one per
position, matching the mixing.

Like SISWS it can run as one K·rank convolution followed by the weighted sum (``conv``
route) or mix the kernels per position and apply one locally connected product (``mix``).
Its family (search space, formulas) is :mod:`layers.families.lrlc`.
"""

from __future__ import annotations

import keras
from keras import ops

from layers.families.lrlc import MIXINGS, check_mixing, check_rank  # noqa: F401  (MIXINGS re-exported)
from layers.local_ops import locally_connected
from layers.routes import ROUTES, RoutedLayer  # noqa: F401  (ROUTES re-exported)


@keras.saving.register_keras_serializable(package="wsbench")
class LowRankLocallyConnected2D(RoutedLayer):
    """Low-rank locally connected layer.

    Args:
        filters: K, output channels.
        kernel_size, strides, padding: as Conv2D ('valid' or 'same').
        rank: number of basis kernels.
        mixing: 'row_col' (logit = row term + column term) or 'position' (one per cell).
        activation, use_bias, kernel_initializer: as Conv2D.
        route: 'conv', 'mix' or 'auto' (n = rank); see :class:`layers.routes.RoutedLayer`.
    """

    initializer_args = ("kernel_initializer",)

    def __init__(self, filters, kernel_size, strides=1, padding="valid", rank=4, mixing="row_col",
                 activation=None, use_bias=True, kernel_initializer=None, route="auto", **kwargs):
        super().__init__(filters, kernel_size, strides, padding, route=route, activation=activation,
                         use_bias=use_bias, kernel_initializer=kernel_initializer, **kwargs)
        self.rank = check_rank(rank)
        self.mixing = check_mixing(mixing)

    @property
    def n_mixed_kernels(self) -> int:
        return self.rank

    def build(self, input_shape):
        oh, ow = self.output_hw(input_shape)
        self.out_hw = (oh, ow)
        kh, kw = self.kernel_size
        k, r = self.filters, self.rank
        # Channel k·rank + r is basis kernel r of filter k.
        self.kernel = self.add_weight(name="kernel", shape=(kh, kw, int(input_shape[-1]), k * r),
                                      initializer=self.kernel_initializer_for(int(input_shape[-1])))
        if self.mixing == "row_col":
            self.row_logits = self.add_weight(name="row_logits", shape=(oh, 1, r), initializer="zeros")
            self.col_logits = self.add_weight(name="col_logits", shape=(1, ow, r), initializer="zeros")
            if self.use_bias:
                self.row_bias = self.add_weight(name="row_bias", shape=(oh, 1, k), initializer="zeros")
                self.col_bias = self.add_weight(name="col_bias", shape=(1, ow, k), initializer="zeros")
        else:
            self.logits = self.add_weight(name="logits", shape=(oh, ow, r), initializer="zeros")
            if self.use_bias:
                self.position_bias = self.add_weight(name="position_bias", shape=(oh, ow, k), initializer="zeros")

    def combining_weights(self):
        """α_r(i, j), softmax over the rank, shape [out_h, out_w, rank]."""
        logits = self.row_logits + self.col_logits if self.mixing == "row_col" else self.logits
        return ops.softmax(logits, axis=-1)

    def spatial_bias(self):
        return self.row_bias + self.col_bias if self.mixing == "row_col" else self.position_bias

    def position_kernels_flat(self, alpha=None):
        """Σ_r α_r(i, j)·W_r at every position, as [out_h·out_w, kh·kw·c_in, K]."""
        alpha = self.combining_weights() if alpha is None else alpha
        oh, ow = self.out_hw
        # One plain matmul [P, rank] × [rank, C·K]: about twice as fast as an einsum, both ways.
        w = ops.transpose(ops.reshape(self.kernel, (-1, self.rank)))
        mixed = ops.matmul(ops.reshape(alpha, (oh * ow, self.rank)), w)
        return ops.reshape(mixed, (oh * ow, -1, self.filters))

    def call(self, inputs):
        alpha = self.combining_weights()
        oh, ow = self.out_hw
        if self.chosen_route() == "conv":
            conv = ops.conv(inputs, self.kernel, strides=self.strides, padding=self.padding)
            conv = ops.reshape(conv, (-1, oh, ow, self.filters, self.rank))
            out = ops.sum(conv * alpha[:, :, None, :], axis=-1)
        else:
            out = locally_connected(inputs, self.position_kernels_flat(alpha), self.kernel_size, self.strides,
                                    self.padding)
        if self.use_bias:
            out = out + self.spatial_bias()
        return self.activation(out)

    def get_config(self):
        config = super().get_config()
        config.update(rank=self.rank, mixing=self.mixing)
        return config
