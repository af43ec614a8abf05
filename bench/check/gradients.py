"""Outputs and gradients of a layer on whichever Keras backend this process runs.

The layer is differentiated on the active backend: ``tf.GradientTape`` on TensorFlow,
``jax.vjp`` of the layer as a pure function of its weights (``keras.StatelessScope``) on JAX.
The finite-gradients check uses it, and so do the layer tests (``tests/gradients.py``), which
compare gradients between routes and against TensorFlow references.
"""

from __future__ import annotations

from typing import Callable, List, Optional

import keras
import numpy as np


def outputs_and_gradients(layer, x, upstream, call: Optional[Callable] = None) -> List[Optional[np.ndarray]]:
    """``[y, dL/dx, dL/dw for w in layer.trainable_weights]`` for L = Σ y·upstream; a gradient
    that does not reach its input or weight is None.

    Args:
        layer: a built Keras layer.
        x, upstream: numpy input and the output's cotangent.
        call: ``(layer, x) -> y``; default ``layer(x)``.
    """
    call = call or (lambda lay, t: lay(t))
    if keras.backend.backend() == "jax":
        grads = jax_gradients(layer, x, upstream, call)
    else:
        grads = tensorflow_gradients(layer.trainable_weights, lambda t: call(layer, t), x, upstream)
    return [None if g is None else np.asarray(g) for g in grads]


def tensorflow_gradients(variables, fn, x, upstream) -> list:
    """``[y, dL/dx, dL/dv for v in variables]`` of ``y = fn(x)`` with ``tf.GradientTape``."""
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        loss = tf.reduce_sum(tf.convert_to_tensor(y) * upstream)
    return [y] + tape.gradient(loss, [x] + list(variables))


def jax_gradients(layer, x, upstream, call) -> list:
    """``[y, dL/dx, dL/dw …]`` of ``call(layer, x)`` with ``jax.vjp`` over the layer's trainable weights."""
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
