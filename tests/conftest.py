"""Shared fixtures for the layer-family tests, and the options of the JAX pass of `make test`.

Every check that applies to all families is parametrized over ``layers.list_families()``
through the ``family_name`` fixture, so a plugin family gets the same checks for free.

Modules marked ``pytestmark = pytest.mark.backends`` hold on every Keras backend: the layers
alone and the training stream (no tuner, no `wsbench` process); `make test` runs them a second time with ``KERAS_BACKEND=jax -m backends
--each-value-once``. That option keeps, of each parametrized test, only enough cases that
every value of every parameter (every family, route, padding, ...) runs at least once; the
rest are reported as deselected.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import layers  # noqa: E402

# Importing layers imports no Keras (the registry stays light), and nothing at this level may:
# xdist's controller process loads this file too, and it runs no test, so Keras and TensorFlow
# imported here would cost every pass their ~6 s before its workers even start.
FAMILY_NAMES = layers.list_families()


def _expected_seconds(item) -> float:
    mark = item.get_closest_marker("slow")
    return 0.0 if mark is None else float(mark.kwargs.get("seconds", 60))


def pytest_addoption(parser):
    parser.addoption("--each-value-once", action="store_true",
                     help="run only enough cases of each parametrized test that every value of every parameter "
                          "runs once (the JAX pass of `make test`: the full grid runs on TensorFlow)")


def each_value_once(items) -> tuple:
    """(kept, deselected): of each parametrized test function, cases in which every
    (parameter, value) pair occurs at least once; every unparametrized test is kept.

    The cases are picked greedily, each time the one that brings the most pairs not yet
    covered (the earliest on a tie), the usual set-cover heuristic: when it came, the JAX pass
    kept 155 cases where taking every case that brings a new pair, in collection order, kept 188.
    Deterministic, so every xdist worker deselects the same cases.
    """
    groups: dict = {}
    for item in items:
        if getattr(item, "callspec", None) is not None:
            groups.setdefault(item.nodeid.split("[")[0], []).append(item)
    chosen = set()
    for cases in groups.values():
        pairs = [{(name, repr(value)) for name, value in case.callspec.params.items()} for case in cases]
        missing = set().union(*pairs)
        chosen.add(id(cases[0]))
        missing -= pairs[0]
        while missing:
            best = max(range(len(cases)), key=lambda i: (len(pairs[i] & missing), -i))
            chosen.add(id(cases[best]))
            missing -= pairs[best]
    kept = [item for item in items if getattr(item, "callspec", None) is None or id(item) in chosen]
    dropped = [item for item in items if getattr(item, "callspec", None) is not None and id(item) not in chosen]
    return kept, dropped


def pytest_collection_modifyitems(config, items):
    """Runs the files with slow tests first, longest first (``@pytest.mark.slow(seconds=N)``
    declares a long one). `make test` hands whole files to two xdist workers in collection
    order (--dist loadfile); a long file picked up last would run alone at the end while the
    other worker idles."""
    if config.getoption("--each-value-once"):
        items[:], dropped = each_value_once(items)
        config.hook.pytest_deselected(items=dropped)
    items.sort(key=lambda item: -_expected_seconds(item))  # stable: file order otherwise kept


def pytest_collection_finish(session):
    """What is alive once the tests are collected (TensorFlow, Keras, JAX, every test module:
    ~520,000 objects) lives as long as the process, so it is moved out of the cyclic
    collector's reach, as bench.backend.configure does for a run: Keras runs a full
    collection at every clear_session(), which then skips them (0.34 s a collection before)."""
    import gc

    gc.collect()
    gc.freeze()


def pytest_configure(config):
    # Hard-sharing configurations (one SISWS centroid, LRLC rank 1) take a softmax over a
    # size-1 axis on purpose; Keras warns about that on every call.
    config.addinivalue_line("filterwarnings", "ignore:You are using a softmax over axis:UserWarning")


@pytest.fixture(params=FAMILY_NAMES)
def family_name(request) -> str:
    """Each registered family's name in turn."""
    return request.param


@pytest.fixture
def family(family_name):
    """Each registered family in turn."""
    return layers.get_family(family_name)


@pytest.fixture(scope="session", autouse=True)
def layer_classes() -> None:
    """Tests load saved models (keras.saving.load_model) in any order, so every family's
    layer class is made known to Keras before the first test of each process that runs tests."""
    layers.load_layer_classes()


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded numpy generator; also seeds Keras so layer initialisers are repeatable."""
    import keras

    keras.utils.set_random_seed(1234)
    return np.random.default_rng(1234)
