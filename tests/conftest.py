"""Shared fixtures for the layer-family tests.

Every check that applies to all families is parametrized over ``layers.list_families()``
through the ``family_name`` fixture, so a plugin family gets the same checks for free.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import layers  # noqa: E402

FAMILY_NAMES = layers.list_families()


def _expected_seconds(item) -> float:
    mark = item.get_closest_marker("slow")
    return 0.0 if mark is None else float(mark.kwargs.get("seconds", 60))


def pytest_collection_modifyitems(items):
    """Runs the files with slow tests first, longest first (``@pytest.mark.slow(seconds=N)``
    declares a long one). `make test` hands whole files to two xdist workers in collection
    order (--dist loadfile); a long file picked up last would run alone at the end while the
    other worker idles."""
    items.sort(key=lambda item: -_expected_seconds(item))  # stable: file order otherwise kept


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


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded numpy generator; also seeds Keras so layer initialisers are repeatable."""
    keras.utils.set_random_seed(1234)
    return np.random.default_rng(1234)
