"""Every family's layer config holds exactly its constructor's arguments.

The ``.keras`` save/load round trip (identical class, weights, config and outputs) and the
``get_config`` / ``from_config`` round trip are `wsbench check`'s save_load and get_config
checks, run on every family by test_family_check.py."""

from __future__ import annotations

import inspect

import pytest

import layers

pytestmark = pytest.mark.backends  # also run on JAX by `make test` (see conftest.py)


def test_config_holds_exactly_the_constructor_arguments(family_name):
    layer = layers.get_family(family_name).build(3, 3, 1, "same")
    layer.build((None, 6, 6, 2))
    params = [p for p in inspect.signature(type(layer).__init__).parameters.values()
              if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"]
    config = layer.get_config()
    # name, trainable, dtype are Keras's; route_ran records what a routed layer decided.
    extra = {"name", "trainable", "dtype", "route_ran"}
    assert set(config) - extra == {p.name for p in params}
    assert ("route_ran" in config) == bool(layers.get_family(family_name).routes)
