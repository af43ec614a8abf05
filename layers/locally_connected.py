"""``locally_connected``: a Keras 3 LocallyConnected2D (Keras 3 dropped the layer).

Every output position has its own kernel and bias: no weight sharing at all.
"""

from __future__ import annotations

import keras
from keras import ops

from layers.local_ops import conv_matched_initializer, locally_connected
from layers.registry import Family, register_family
from layers.shapes import check_filters, check_padding, conv_output_shape, pair


@keras.saving.register_keras_serializable(package="wsbench")
class LocallyConnected2D(keras.layers.Layer):
    """2-D locally connected layer: a convolution whose kernel differs at every position.

    Args:
        filters: number of output channels.
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw).
        padding: 'valid' or 'same' (TensorFlow's output-size rule).
        activation: Keras activation applied to the output.
        use_bias: adds one bias per output position and filter.
        kernel_initializer, bias_initializer: Keras initializers.

    The kernel has shape (out_h·out_w, kh·kw·c_in, filters), the layout of tf_keras's
    implementation 1, so weights transfer between the two unchanged.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None, use_bias=True,
                 kernel_initializer=None, bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.filters = check_filters(filters)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.strides = pair(strides, "strides")
        self.padding = check_padding(padding)
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        # None: glorot-uniform with Conv2D's fans (see conv_matched_initializer).
        self.kernel_initializer = None if kernel_initializer is None else keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        oh, ow = conv_output_shape(input_shape[1:3], self.kernel_size, self.strides, self.padding)
        kh, kw = self.kernel_size
        self.out_hw = (oh, ow)
        self.kernel = self.add_weight(
            name="kernel", shape=(oh * ow, kh * kw * int(input_shape[-1]), self.filters),
            initializer=self.kernel_initializer
            or conv_matched_initializer(self.kernel_size, int(input_shape[-1]), self.filters),
        )
        self.bias = (
            self.add_weight(name="bias", shape=(oh, ow, self.filters), initializer=self.bias_initializer)
            if self.use_bias else None
        )

    def call(self, inputs):
        out = locally_connected(inputs, self.kernel, self.kernel_size, self.strides, self.padding)
        if self.use_bias:
            out = out + self.bias
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        oh, ow = conv_output_shape(input_shape[1:3], self.kernel_size, self.strides, self.padding)
        return (input_shape[0], oh, ow, self.filters)

    def position_kernels(self):
        """The kernel at every output position, as [out_h, out_w, kh, kw, c_in, filters]."""
        oh, ow = self.out_hw
        kh, kw = self.kernel_size
        return ops.reshape(self.kernel, (oh, ow, kh, kw, -1, self.filters))

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
            activation=keras.activations.serialize(self.activation), use_bias=self.use_bias,
            kernel_initializer=None if self.kernel_initializer is None else keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
        )
        return config


@register_family("locally_connected")
class LocallyConnectedFamily(Family):
    description = "LocallyConnected2D: a separate kernel and bias at every output position (no sharing)."
    hard_sharing_hp = None  # hard sharing needs the same kernel copied to every position (tests do that)

    def make_layer(self, filters, kernel_size, strides, padding, **hp):
        return LocallyConnected2D(filters, kernel_size, strides=strides, padding=padding, **hp)

    def param_count(self, input_shape, filters, kernel_size, strides=1, padding="valid", use_bias=True, **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        return oh * ow * (kh * kw * int(input_shape[-1]) * filters + (filters if use_bias else 0))

    def macs(self, input_shape, filters, kernel_size, strides=1, padding="valid", **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        return oh * ow * kh * kw * int(input_shape[-1]) * filters
