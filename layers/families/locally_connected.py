"""``locally_connected``: every output position has its own kernel and bias (no sharing)."""

from __future__ import annotations

from layers.registry import Family, SpeedSpec, SpeedTarget, register_family
from layers.shapes import conv_output_shape, pair


@register_family("locally_connected")
class LocallyConnectedFamily(Family):
    description = "LocallyConnected2D: a separate kernel and bias at every output position (no sharing)."
    position_aware = True
    hard_sharing_hp = None  # hard sharing needs the same kernel copied to every position (tests do that)
    layer_path = "layers.locally_connected:LocallyConnected2D"
    speed = SpeedSpec(reference="tf_keras", targets=(SpeedTarget("reference", 0.2), SpeedTarget("conv_K", 4.0)))

    def make_layer(self, filters, kernel_size, strides, padding, **hp):
        return self.layer_type(filters, kernel_size, strides=strides, padding=padding, **hp)

    def param_count(self, input_shape, filters, kernel_size, strides=1, padding="valid", use_bias=True, **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        return oh * ow * (kh * kw * int(input_shape[-1]) * filters + (filters if use_bias else 0))

    def macs(self, input_shape, filters, kernel_size, strides=1, padding="valid", **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        return oh * ow * kh * kw * int(input_shape[-1]) * filters
