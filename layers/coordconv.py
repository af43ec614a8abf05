"""``coordconv``: Conv2D over the input plus two coordinate channels (Liu et al., 2018).

Hard sharing, but the kernel can read where it is: channels y and x run linearly over
[-1, 1] along the height and width. Its family (formulas) is :mod:`layers.families.coordconv`.
"""

from __future__ import annotations

import keras
from keras import ops

from layers.spatial_layer import SpatialLayer


@keras.saving.register_keras_serializable(package="wsbench")
class CoordConv2D(SpatialLayer):
    """Conv2D applied to ``concat([inputs, y, x])`` with y, x ∈ [-1, 1].

    Args:
        filters, kernel_size, strides, padding, activation, use_bias: as Conv2D.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None, use_bias=True, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, activation=activation, use_bias=use_bias, **kwargs)
        self.conv = keras.layers.Conv2D(self.filters, self.kernel_size, strides=self.strides, padding=self.padding,
                                        activation=activation, use_bias=use_bias, name="conv")

    def build(self, input_shape):
        self.out_hw = self.output_hw(input_shape)  # a clear error if the input is too small
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

    def position_kernels_flat(self):
        """The one shared kernel at every position, on the real input channels only.

        The weights on the two coordinate channels act as a position-dependent bias, not as
        part of the kernel applied to the image, so they are left out.
        """
        oh, ow = self.out_hw
        image_kernel = ops.reshape(self.conv.kernel[:, :, :-2, :], (1, -1, self.filters))
        return ops.broadcast_to(image_kernel, (oh * ow, image_kernel.shape[1], self.filters))
