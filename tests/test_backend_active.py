"""The layer tests run on the backend their process was started with.

`make test` runs the ``backends``-marked modules a second time with ``KERAS_BACKEND=jax``;
this test fails that pass if Keras ignored the variable (e.g. a ``~/.keras/keras.json`` or
an earlier import decided first), so the JAX count never silently comes from TensorFlow.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest

from bench import backend

pytestmark = pytest.mark.backends


def test_keras_runs_the_backend_the_environment_names():
    wanted = os.environ.get("KERAS_BACKEND", "tensorflow")
    assert keras.backend.backend() == wanted
    assert backend.active() == wanted


def test_layer_outputs_are_arrays_of_that_backend():
    import layers

    layer = layers.get_family("sisws").build(2, 3, 1, "same")
    out = layer(np.zeros((1, 5, 5, 1), "float32"))
    module = type(out).__module__
    # jax arrays live in jaxlib/jax modules, TensorFlow's EagerTensor in tensorflow's.
    assert module.split(".")[0] in {"tensorflow": ("tensorflow",), "jax": ("jax", "jaxlib")}[keras.backend.backend()], module
