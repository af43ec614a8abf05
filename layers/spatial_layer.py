"""The Conv2D arguments every wsbench layer takes: checked, stored and serialised in one place."""

from __future__ import annotations

from typing import Tuple

import keras
from keras import ops

from layers.local_ops import conv_matched_initializer
from layers.shapes import check_filters, check_padding, conv_output_shape, pair


def _serialize_initializer(initializer):
    return None if initializer is None else keras.initializers.serialize(initializer)


class SpatialLayer(keras.layers.Layer):
    """Base of wsbench's 2-D layers: a convolution's arguments and output geometry.

    Args:
        filters: number of output channels (a positive int).
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw).
        padding: 'valid' or 'same' (TensorFlow's output-size rule).
        activation: Keras activation applied to the output.
        use_bias: whether the layer adds a bias.
        kernel_initializer: a Keras initializer, or None for glorot-uniform with Conv2D's fans
            (see :meth:`kernel_initializer_for`).
        bias_initializer: a Keras initializer.
        **kwargs: ``keras.layers.Layer`` arguments (name, dtype, trainable).

    Subclasses name in :attr:`initializer_args` the initializer arguments their own
    constructor takes; only those are stored and serialised, so every layer's config keeps
    exactly the keys its constructor accepts (CoordConv2D takes none: its inner Conv2D
    initialises itself). Subclasses provide :meth:`position_kernels_flat`.
    """

    #: The initializer arguments the subclass's constructor takes.
    initializer_args: Tuple[str, ...] = ()

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None, use_bias=True,
                 kernel_initializer=None, bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.filters = check_filters(filters)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.strides = pair(strides, "strides")
        self.padding = check_padding(padding)
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        if "kernel_initializer" in self.initializer_args:
            self.kernel_initializer = None if kernel_initializer is None else keras.initializers.get(kernel_initializer)
        if "bias_initializer" in self.initializer_args:
            self.bias_initializer = keras.initializers.get(bias_initializer)

    def output_hw(self, input_shape) -> Tuple[int, int]:
        """(out_h, out_w) on a [batch, H, W, C] input; a VALID kernel larger than the input raises ValueError."""
        return conv_output_shape(input_shape[1:3], self.kernel_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.output_hw(input_shape) + (self.filters,)

    def kernel_initializer_for(self, in_channels: int):
        """The configured kernel initializer, or for None glorot-uniform with Conv2D's fans.

        Conv2D's fans start every position's kernel at the convolution's scale, so no family
        is handicapped from the first step (see :func:`layers.local_ops.conv_matched_initializer`).
        """
        return self.kernel_initializer or conv_matched_initializer(self.kernel_size, in_channels, self.filters)

    def position_kernels_flat(self):
        """The kernel at every output position, as [out_h·out_w, kh·kw·c_in, filters]."""
        raise NotImplementedError

    def position_kernels(self):
        """The kernel at every output position, as [out_h, out_w, kh, kw, c_in, filters]."""
        oh, ow = self.out_hw
        kh, kw = self.kernel_size
        return ops.reshape(self.position_kernels_flat(), (oh, ow, kh, kw, -1, self.filters))

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
                      activation=keras.activations.serialize(self.activation), use_bias=self.use_bias)
        for name in self.initializer_args:
            config[name] = _serialize_initializer(getattr(self, name))
        return config
