"""``coordconv``: Conv2D over the input plus two coordinate channels (Liu et al., 2018).

Hard sharing, but the kernel can read where it is: channels y and x run linearly over
[-1, 1] along the height and width.
"""

from __future__ import annotations

import keras
from keras import ops

from layers.registry import Family, register_family
from layers.shapes import check_filters, check_padding, conv_output_shape, pair


@keras.saving.register_keras_serializable(package="wsbench")
class CoordConv2D(keras.layers.Layer):
    """Conv2D applied to ``concat([inputs, y, x])`` with y, x ∈ [-1, 1].

    Args:
        filters, kernel_size, strides, padding, activation, use_bias: as Conv2D.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_filters(filters)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.strides = pair(strides, "strides")
        self.padding = check_padding(padding)
        self.use_bias = use_bias
        self.activation = keras.activations.get(activation)
        self.conv = keras.layers.Conv2D(self.filters, self.kernel_size, strides=self.strides, padding=self.padding,
                                        activation=activation, use_bias=use_bias, name="conv")

    def build(self, input_shape):
        conv_output_shape(input_shape[1:3], self.kernel_size, self.strides, self.padding)  # clear error if too small
        self.conv.build((input_shape[0], input_shape[1], input_shape[2], int(input_shape[3]) + 2))

    def coordinates(self, height: int, width: int):
        """The two coordinate channels as [height, width, 2] (y, x)."""
        ys = ops.linspace(-1.0, 1.0, height)
        xs = ops.linspace(-1.0, 1.0, width)
        yy = ops.broadcast_to(ops.reshape(ys, (height, 1)), (height, width))
        xx = ops.broadcast_to(ops.reshape(xs, (1, width)), (height, width))
        return ops.stack([yy, xx], axis=-1)

    def call(self, inputs):
        h, w = int(inputs.shape[1]), int(inputs.shape[2])
        coords = ops.cast(self.coordinates(h, w), inputs.dtype)
        coords = ops.broadcast_to(coords[None], (ops.shape(inputs)[0], h, w, 2))
        return self.conv(ops.concatenate([inputs, coords], axis=-1))

    def compute_output_shape(self, input_shape):
        oh, ow = conv_output_shape(input_shape[1:3], self.kernel_size, self.strides, self.padding)
        return (input_shape[0], oh, ow, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                      padding=self.padding, activation=keras.activations.serialize(self.activation),
                      use_bias=self.use_bias)
        return config


@register_family("coordconv")
class CoordConvFamily(Family):
    description = "CoordConv: Conv2D over the input plus y/x coordinate channels (hard sharing, position-aware)."
    hard_sharing_hp = None  # the coordinate channels' weights must be zero for that (tests set them)

    def make_layer(self, filters, kernel_size, strides, padding, **hp):
        return CoordConv2D(filters, kernel_size, strides=strides, padding=padding, **hp)

    def param_count(self, input_shape, filters, kernel_size, strides=1, padding="valid", use_bias=True, **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        conv_output_shape(input_shape, kernel_size, strides, padding)  # rejects a kernel larger than a VALID input
        return kh * kw * (int(input_shape[-1]) + 2) * filters + (filters if use_bias else 0)

    def macs(self, input_shape, filters, kernel_size, strides=1, padding="valid", **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        return oh * ow * kh * kw * (int(input_shape[-1]) + 2) * filters
