"""Training by the benchmark's protocol works, and is repeatable, on the active Keras backend.

The training stream is a ``tf.data`` pipeline (``bench.run.protocol.batches``) fed to
``model.fit``: TensorFlow only feeds the batches, the model trains on the active backend.
TensorFlow's op determinism (``bench.backend.configure``) covers the stream; XLA on the CPU
is deterministic by itself, which the second test checks on JAX. The graph release of
``bench.compat`` is TensorFlow's: on another backend it must leave TensorFlow's registry alone.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from bench import compat
from bench.run.backbone import build_backbone
from bench.run.protocol import Protocol
from bench.run.training import train_together

pytestmark = pytest.mark.backends  # also run on JAX by `make test` (see conftest.py)

PROTOCOL = Protocol(steps=12, batch_size=16, warmup=0.1, eval_every=4, steps_per_execution=2)


def trained(family: str):
    """A small backbone of ``family`` trained by PROTOCOL on a seeded toy problem."""
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(96, 8, 8, 1)).astype("float32")
    y = (x[:, :4].mean(axis=(1, 2, 3)) > 0).astype("int64")  # learnable: the top half's sign
    keras.utils.set_random_seed(5)
    model = build_backbone(family, (8, 8, 1), 2, 4, depth=1)
    (result,) = train_together([model], [5], x[:64], y[:64], x[64:], y[64:], PROTOCOL, 0.01, 2)
    return model, result


@pytest.mark.parametrize("family", ["conv", "sisws"])
def test_protocol_trains_on_this_backend_from_the_tf_data_stream(family):
    model, result = trained(family)
    assert [h["step"] for h in result.history] == [4, 8, 12]
    assert all(np.isfinite(h["loss"]) for h in result.history)
    assert 0.0 <= result.val_accuracy <= 1.0
    # Every variable is an array of the active backend, not a TensorFlow one.
    assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in model.trainable_weights)
    assert type(model.trainable_weights[0].value).__module__.split(".")[0] in {
        "tensorflow": ("tensorflow",), "jax": ("jax", "jaxlib")}[keras.backend.backend()]


def test_the_same_seed_trains_the_same_weights():
    first, _ = trained("sisws")
    second, _ = trained("sisws")
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_graph_release_touches_tensorflow_only_when_it_trains():
    trained("conv")
    before = dict(compat.gradient_registry())
    dropped = compat.release_tf_graphs()
    if keras.backend.backend() == "tensorflow":
        assert dropped > 0  # the train step's all_reduce registration is what leaks
    else:
        assert dropped == 0 and dict(compat.gradient_registry()) == before


def test_setting_up_a_process_freezes_what_lives_and_still_collects_what_comes_later():
    """bench.backend.configure moves the objects alive at set-up (TensorFlow, Keras, ...) out
    of the collector's reach; a reference cycle made afterwards (a discarded model's) is still
    collected."""
    import gc
    import weakref

    from bench import backend
    from bench.run.config import BenchConfig

    gc.unfreeze()  # an earlier test of this process may have set a run up already
    backend.configure(BenchConfig(threads=0))
    assert gc.get_freeze_count() > 100_000, gc.get_freeze_count()  # TensorFlow and Keras alone are more

    class Node:
        pass

    node = Node()
    node.itself = node
    alive = weakref.ref(node)
    del node
    gc.collect()
    assert alive() is None
