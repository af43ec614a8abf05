"""``lrlc``: low-rank locally connected (Elsayed et al., ICML 2020).

``rank`` basis kernels share one convolution with K·rank filters. Each output position
mixes them with softmax weights α_r(i, j) over the rank; by default the logits are a row
term plus a column term (``mixing='row_col'``), or one logit per position
(``mixing='position'``). Zero logits give α = 1/rank everywhere, so the layer starts as a
plain convolution with the mean kernel. The bias is spatial: row + column terms, or one per
position, matching the mixing.

Like SISWS it can run as one K·rank convolution followed by the weighted sum (``conv``
route) or mix the kernels per position and apply one locally connected product (``mix``).
"""

from __future__ import annotations

import keras
from keras import ops

from layers.local_ops import conv_matched_initializer, locally_connected, prefer_mix_route
from layers.registry import Family, register_family
from layers.shapes import check_filters, check_padding, conv_output_shape, pair

MIXINGS = ("row_col", "position")
ROUTES = ("auto", "conv", "mix")


def check_rank(rank) -> int:
    if isinstance(rank, bool) or not isinstance(rank, int) or rank <= 0:
        raise ValueError(f"rank={rank!r} is not accepted: give a positive int (the number of basis kernels).")
    return rank


def check_mixing(mixing) -> str:
    if mixing not in MIXINGS:
        raise ValueError(f"mixing={mixing!r} is not accepted: use one of {list(MIXINGS)}.")
    return mixing


@keras.saving.register_keras_serializable(package="wsbench")
class LowRankLocallyConnected2D(keras.layers.Layer):
    """Low-rank locally connected layer.

    Args:
        filters: K, output channels.
        kernel_size, strides, padding: as Conv2D ('valid' or 'same').
        rank: number of basis kernels.
        mixing: 'row_col' (logit = row term + column term) or 'position' (one per cell).
        activation, use_bias, kernel_initializer: as Conv2D.
        route: 'conv', 'mix' or 'auto'. Both routes give the same numbers. 'auto' picks by
            shape (rank, c_in, map size; the batch size is unknown when the layer is built):
            the mix route, ~1× a K-filter convolution in multiply-adds instead of ~rank×,
            unless rank = 1, or rank <= min(4, c_in / 8), or the per-position kernels would
            exceed 64 Mi elements; see :meth:`chosen_route`. ``get_config()['route_ran']``
            says which ran. The rule assumes training batches of 32 or more; with 16 or
            fewer, 'conv' is as fast or faster.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", rank=4, mixing="row_col",
                 activation=None, use_bias=True, kernel_initializer=None, route="auto", **kwargs):
        super().__init__(**kwargs)
        self.filters = check_filters(filters)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.strides = pair(strides, "strides")
        self.padding = check_padding(padding)
        self.rank = check_rank(rank)
        self.mixing = check_mixing(mixing)
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        # None: glorot-uniform with Conv2D's fans (see conv_matched_initializer).
        self.kernel_initializer = None if kernel_initializer is None else keras.initializers.get(kernel_initializer)
        if route not in ROUTES:
            raise ValueError(f"route={route!r} is not accepted: use one of {list(ROUTES)}.")
        self.route = route

    def build(self, input_shape):
        oh, ow = conv_output_shape(input_shape[1:3], self.kernel_size, self.strides, self.padding)
        self.out_hw = (oh, ow)
        kh, kw = self.kernel_size
        k, r = self.filters, self.rank
        # Channel k·rank + r is basis kernel r of filter k.
        self.kernel = self.add_weight(name="kernel", shape=(kh, kw, int(input_shape[-1]), k * r),
                                      initializer=self.kernel_initializer
                                      or conv_matched_initializer(self.kernel_size, int(input_shape[-1]),
                                                                  self.filters))
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

    def chosen_route(self) -> str:
        """The route ``call`` runs: the configured one, or for 'auto' the faster by shape.

        'auto' takes the mix route unless rank = 1 (then the layer is a Conv2D), the input
        has many channels for a low rank (rank <= min(4, c_in / 8)), or the per-position
        kernels would exceed 64 Mi elements; see :func:`layers.local_ops.prefer_mix_route`.
        """
        if self.route != "auto":
            return self.route
        mix = prefer_mix_route(self.rank, int(self.kernel.shape[2]), self.kernel_size, self.out_hw, self.filters)
        return "mix" if mix else "conv"

    def position_kernels_flat(self, alpha=None):
        """Σ_r α_r(i, j)·W_r at every position, as [out_h·out_w, kh·kw·c_in, K]."""
        alpha = self.combining_weights() if alpha is None else alpha
        oh, ow = self.out_hw
        # One plain matmul [P, rank] × [rank, C·K]: about twice as fast as an einsum, both ways.
        w = ops.transpose(ops.reshape(self.kernel, (-1, self.rank)))
        mixed = ops.matmul(ops.reshape(alpha, (oh * ow, self.rank)), w)
        return ops.reshape(mixed, (oh * ow, -1, self.filters))

    def position_kernels(self):
        """The kernels at every position as [out_h, out_w, kh, kw, c_in, filters]."""
        oh, ow = self.out_hw
        kh, kw = self.kernel_size
        return ops.reshape(self.position_kernels_flat(), (oh, ow, kh, kw, -1, self.filters))

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

    def compute_output_shape(self, input_shape):
        oh, ow = conv_output_shape(input_shape[1:3], self.kernel_size, self.strides, self.padding)
        return (input_shape[0], oh, ow, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
            rank=self.rank, mixing=self.mixing, activation=keras.activations.serialize(self.activation),
            use_bias=self.use_bias, kernel_initializer=None if self.kernel_initializer is None else keras.initializers.serialize(self.kernel_initializer),
            route=self.route,
        )
        if getattr(self, "built", False):
            config["route_ran"] = self.chosen_route()
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("route_ran", None)
        return cls(**config)


@register_family("lrlc")
class LRLCFamily(Family):
    description = "Low-rank locally connected: rank basis kernels mixed by learned per-row/column softmax weights."
    hard_sharing_hp = {"rank": 1}

    def make_layer(self, filters, kernel_size, strides, padding, **hp):
        return LowRankLocallyConnected2D(filters, kernel_size, strides=strides, padding=padding, **hp)

    def hyperparameters(self, hp):
        return {"rank": hp.Choice("rank", [2, 4, 8]), "mixing": hp.Choice("mixing", list(MIXINGS))}

    def param_count(self, input_shape, filters, kernel_size, strides=1, padding="valid", rank=4,
                    mixing="row_col", use_bias=True, **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        rank, mixing = check_rank(rank), check_mixing(mixing)
        cells = oh + ow if mixing == "row_col" else oh * ow
        return kh * kw * int(input_shape[-1]) * filters * rank + cells * rank + (cells * filters if use_bias else 0)

    def macs(self, input_shape, filters, kernel_size, strides=1, padding="valid", rank=4, **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        return oh * ow * filters * rank * (kh * kw * int(input_shape[-1]) + 1)
