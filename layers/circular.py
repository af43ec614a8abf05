"""Circular (wrap-around) padding: the image treated as a torus.

With zero ('same') padding a convolution sees where the image ends, and through that edge it
can tell where things are: a shape near the left border looks different from the same shape
near the right one. Padded circularly instead, a convolution is exactly equivariant to
circular shifts, and after global average pooling exactly invariant to them: the textbook
position-blind model. ``wsbench study`` uses it so that its what-is-where dataset has a
known answer. Layers whose weights differ by position still tell positions apart on a torus.
The backbone puts it before a 'valid' family layer; it lives here, with the layers, so that
:func:`layers.load_layer_classes` makes it known to Keras wherever a saved model is loaded.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="wsbench")
class CircularPad2D(keras.layers.Layer):
    """Pads an (N, H, W, C) tensor by ``pad`` rows and columns on each side, wrapping around.

    Args:
        pad: rows (and columns) added on each side; at most H and W.
    """

    def __init__(self, pad: int, **kwargs):
        super().__init__(**kwargs)
        if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0:
            raise ValueError(f"pad={pad!r} is not accepted: give an integer >= 0.")
        self.pad = pad

    def call(self, x):
        p = self.pad
        if p == 0:
            return x
        x = ops.concatenate([x[:, -p:], x, x[:, :p]], axis=1)
        return ops.concatenate([x[:, :, -p:], x, x[:, :, :p]], axis=2)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        grow = lambda d: None if d is None else d + 2 * self.pad  # noqa: E731
        return (n, grow(h), grow(w), c)

    def get_config(self):
        return {**super().get_config(), "pad": self.pad}
