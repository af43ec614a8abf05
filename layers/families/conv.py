"""``conv``: Keras's own Conv2D, the hard-sharing reference."""

from __future__ import annotations

from layers.registry import Family, register_family
from layers.shapes import conv_output_shape, pair


@register_family("conv")
class ConvFamily(Family):
    description = "keras.layers.Conv2D: one kernel shared by every position (hard sharing)."
    position_aware = False
    layer_path = "keras.layers:Conv2D"

    def make_layer(self, filters, kernel_size, strides, padding, **hp):
        import keras

        return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, **hp)

    def param_count(self, input_shape, filters, kernel_size, strides=1, padding="valid", use_bias=True, **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        conv_output_shape(input_shape, kernel_size, strides, padding)  # rejects a kernel larger than a VALID input
        return kh * kw * int(input_shape[-1]) * filters + (filters if use_bias else 0)

    def macs(self, input_shape, filters, kernel_size, strides=1, padding="valid", **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        return oh * ow * kh * kw * int(input_shape[-1]) * filters
