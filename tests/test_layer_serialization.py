"""Every family survives a ``.keras`` save/load round trip with identical outputs."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import layers

pytestmark = pytest.mark.backends  # also run on JAX by `make test` (see conftest.py)

# Options that give each built-in family weights worth saving: random fixed centroids
# (non-trainable state that must persist), per-feature centroids, per-position mixing.
OPTIONS = {
    "sisws": {"n_centroids": 3, "per_feature": True, "seed": None},
    "sisws_trainable": {"n_centroids": (2, 2), "per_feature": True},
    "lrlc": {"rank": 2, "mixing": "position"},
}


@pytest.mark.parametrize("padding, strides", [("same", 1), ("valid", 2)])
def test_keras_file_round_trip(family_name, padding, strides, tmp_path, rng):
    family = layers.get_family(family_name)
    layer = family.build(3, 3, strides, padding, activation="relu", **OPTIONS.get(family_name, {}))
    model = keras.Sequential([keras.Input((8, 7, 2)), layer, keras.layers.Flatten(), keras.layers.Dense(2)])
    # Every weight random, so zero-initialised ones (biases, logits) are checked too.
    for w in model.weights:
        w.assign(rng.normal(scale=0.5, size=w.shape).astype(w.dtype))
    x = rng.normal(size=(4, 8, 7, 2)).astype("float32")
    path = tmp_path / f"{family_name}.keras"

    model.save(path)
    loaded = keras.saving.load_model(path)

    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))
    loaded_layer = loaded.layers[0]
    assert type(loaded_layer) is type(layer)
    assert [w.trainable for w in loaded_layer.weights] == [w.trainable for w in layer.weights]
    for a, b in zip(loaded_layer.weights, layer.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    config, loaded_config = layer.get_config(), loaded_layer.get_config()
    config.pop("name"), loaded_config.pop("name")
    assert loaded_config == config


def test_config_holds_exactly_the_constructor_arguments(family_name):
    import inspect

    layer = layers.get_family(family_name).build(3, 3, 1, "same")
    layer.build((None, 6, 6, 2))
    params = [p for p in inspect.signature(type(layer).__init__).parameters.values()
              if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"]
    config = layer.get_config()
    # name, trainable, dtype are Keras's; route_ran records what a routed layer decided.
    extra = {"name", "trainable", "dtype", "route_ran"}
    assert set(config) - extra == {p.name for p in params}
    assert ("route_ran" in config) == bool(layers.get_family(family_name).routes)
    clone = type(layer).from_config(config)
    assert {k: v for k, v in clone.get_config().items() if k != "name"} == {
        k: v for k, v in config.items() if k not in ("name", "route_ran")}
