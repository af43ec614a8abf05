"""``coordconv``: Conv2D over the input plus two coordinate channels (Liu et al., 2018)."""

from __future__ import annotations

from layers.registry import Family, register_family
from layers.shapes import conv_output_shape, pair


@register_family("coordconv")
class CoordConvFamily(Family):
    description = "CoordConv: Conv2D over the input plus y/x coordinate channels (hard sharing, position-aware)."
    position_aware = True
    hard_sharing_hp = None  # the coordinate channels' weights must be zero for that (tests set them)
    layer_path = "layers.coordconv:CoordConv2D"

    def make_layer(self, filters, kernel_size, strides, padding, **hp):
        return self.layer_type(filters, kernel_size, strides=strides, padding=padding, **hp)

    def param_count(self, input_shape, filters, kernel_size, strides=1, padding="valid", use_bias=True, **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        conv_output_shape(input_shape, kernel_size, strides, padding)  # rejects a kernel larger than a VALID input
        return kh * kw * (int(input_shape[-1]) + 2) * filters + (filters if use_bias else 0)

    def macs(self, input_shape, filters, kernel_size, strides=1, padding="valid", **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        return oh * ow * kh * kw * (int(input_shape[-1]) + 2) * filters
