"""Outputs and gradients of a layer on whichever Keras backend this process runs.

The layer tests compare gradients (for the input and every trainable weight) between a
layer's routes and against the TensorFlow references of ``bench.speed.references``. The
layer is differentiated on the active backend: ``tf.GradientTape`` on TensorFlow,
``jax.vjp`` of the layer as a pure function of its weights (``keras.StatelessScope``) on JAX. The references are TensorFlow code, so
they are always differentiated by TensorFlow, on ``tf.Variable`` copies of the layer's
weights (:class:`TFView`): on JAX that compares the JAX layer against TensorFlow.
"""

from __future__ import annotations

from typing import Callable, List, Optional

import keras
import numpy as np


def layer_outputs_and_gradients(layer, x, upstream, call: Optional[Callable] = None) -> List[np.ndarray]:
    """``[y, dL/dx, dL/dw for w in layer.trainable_weights]`` for L = Σ y·upstream.

    Args:
        layer: a built Keras layer.
        x, upstream: numpy input and the output's cotangent.
        call: ``(layer, x) -> y``; default ``layer(x)``.

    Raises:
        AssertionError: no gradient reaches the input or a trainable weight.
    """
    call = call or (lambda lay, t: lay(t))
    names = ["x"] + [w.name for w in layer.trainable_weights]
    if keras.backend.backend() == "jax":
        grads = _jax(layer, x, upstream, call)
    else:
        grads = _tensorflow(layer.trainable_weights, lambda t: call(layer, t), x, upstream)
    missing = [n for n, g in zip(names, grads[1:]) if g is None]
    assert not missing, f"no gradient reaches {missing}"
    return [np.asarray(g) for g in grads]


def reference_outputs_and_gradients(reference: Callable, layer, x, upstream) -> List[np.ndarray]:
    """Like :func:`layer_outputs_and_gradients` for a TensorFlow ``reference(layer, x)``,
    run by TensorFlow on copies of the layer's weights, under any Keras backend."""
    view = TFView(layer)
    grads = _tensorflow(view.trainable, lambda t: reference(view, t), x, upstream)
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


def _tensorflow(variables, fn, x, upstream) -> list:
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        loss = tf.reduce_sum(tf.convert_to_tensor(y) * upstream)
    return [y] + tape.gradient(loss, [x] + list(variables))


def _jax(layer, x, upstream, call) -> list:
    import jax

    trainable = [v.value for v in layer.trainable_variables]
    fixed = [v.value for v in layer.non_trainable_variables]

    def forward(x, trainable):
        # The scope makes the layer read the traced values instead of its variables: a pure
        # function of its weights, which is what jax differentiates (stateless_call does the
        # same, but only for the layer's own call()).
        with keras.StatelessScope(state_mapping=list(zip(layer.trainable_variables, trainable))
                                  + list(zip(layer.non_trainable_variables, fixed))):
            return call(layer, x)

    y, vjp = jax.vjp(forward, jax.numpy.asarray(x), trainable)
    dx, dweights = vjp(jax.numpy.asarray(upstream, dtype=y.dtype))
    return [y, dx] + list(dweights)
