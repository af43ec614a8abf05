"""Outputs and gradients of a layer on whichever Keras backend this process runs, with the
assertions the layer tests want, and TensorFlow references seen through the layer's weights.

The layer tests compare gradients (for the input and every trainable weight) between a
layer's routes and against the TensorFlow references of ``bench.speed.references``. The
layer is differentiated on the active backend by :mod:`bench.check.gradients` (which the
finite-gradients check of ``wsbench check`` uses too). The references are TensorFlow code, so
they are always differentiated by TensorFlow, on ``tf.Variable`` copies of the layer's
weights (:class:`TFView`): on JAX that compares the JAX layer against TensorFlow.
"""

from __future__ import annotations

from typing import Callable, List, Optional

import numpy as np

from bench.check.gradients import outputs_and_gradients, tensorflow_gradients


def layer_outputs_and_gradients(layer, x, upstream, call: Optional[Callable] = None) -> List[np.ndarray]:
    """``[y, dL/dx, dL/dw for w in layer.trainable_weights]`` for L = Σ y·upstream.

    Args:
        layer: a built Keras layer.
        x, upstream: numpy input and the output's cotangent.
        call: ``(layer, x) -> y``; default ``layer(x)``.

    Raises:
        AssertionError: no gradient reaches the input or a trainable weight.
    """
    names = ["x"] + [w.name for w in layer.trainable_weights]
    grads = outputs_and_gradients(layer, x, upstream, call)
    missing = [n for n, g in zip(names, grads[1:]) if g is None]
    assert not missing, f"no gradient reaches {missing}"
    return grads


def reference_outputs_and_gradients(reference: Callable, layer, x, upstream) -> List[np.ndarray]:
    """Like :func:`layer_outputs_and_gradients` for a TensorFlow ``reference(layer, x)``,
    run by TensorFlow on copies of the layer's weights, under any Keras backend."""
    view = TFView(layer)
    grads = tensorflow_gradients(view.trainable, lambda t: reference(view, t), x, upstream)
    missing = [w.name for w, g in zip(layer.trainable_weights, grads[2:]) if g is None]
    assert grads[1] is not None and not missing, f"no reference gradient reaches {missing or ['x']}"
    return [np.asarray(g) for g in grads]


class TFView:
    """A layer seen through ``tf.Variable`` copies of its weights.

    Every attribute that is one of the layer's weights reads as its copy; every other
    attribute (shapes, options, ``activation``) is the layer's own.
    """

    def __init__(self, layer):
        import tensorflow as tf

        copies = {id(w): tf.Variable(np.asarray(w), name=w.name) for w in layer.weights}
        self._layer, self._copies = layer, copies
        self.trainable = [copies[id(w)] for w in layer.trainable_weights]

    def __getattr__(self, name):
        value = getattr(self._layer, name)
        return self._copies.get(id(value), value)
