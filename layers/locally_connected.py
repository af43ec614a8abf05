"""``locally_connected``: a Keras 3 LocallyConnected2D (Keras 3 dropped the layer).

Every output position has its own kernel and bias: no weight sharing at all. Its family
(formulas, speed rows) is :mod:`layers.families.locally_connected`.
"""

from __future__ import annotations

import keras

from layers.local_ops import locally_connected
from layers.spatial_layer import SpatialLayer


@keras.saving.register_keras_serializable(package="wsbench")
class LocallyConnected2D(SpatialLayer):
    """2-D locally connected layer: a convolution whose kernel differs at every position.

    Args:
        filters: number of output channels.
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw).
        padding: 'valid' or 'same' (TensorFlow's output-size rule).
        activation: Keras activation applied to the output.
        use_bias: adds one bias per output position and filter.
        kernel_initializer, bias_initializer: Keras initializers (kernel None: glorot-uniform
            with Conv2D's fans).

    The kernel has shape (out_h·out_w, kh·kw·c_in, filters), the layout of tf_keras's
    implementation 1, so weights transfer between the two unchanged.
    """

    initializer_args = ("kernel_initializer", "bias_initializer")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None, use_bias=True,
                 kernel_initializer=None, bias_initializer="zeros", **kwargs):
        super().__init__(filters, kernel_size, strides, padding, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer, **kwargs)

    def build(self, input_shape):
        oh, ow = self.output_hw(input_shape)
        kh, kw = self.kernel_size
        self.out_hw = (oh, ow)
        self.kernel = self.add_weight(
            name="kernel", shape=(oh * ow, kh * kw * int(input_shape[-1]), self.filters),
            initializer=self.kernel_initializer_for(int(input_shape[-1])),
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

    def position_kernels_flat(self):
        return self.kernel
