"""Checks that a family's layer survives what a run does with it: a ``.keras`` save and load
(every best model is kept so), and ``get_config`` / ``from_config``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from bench.check.cases import FamilyUnderCheck
from bench.check.outcome import Outcome, from_problems, plural


def small_model(layer, input_shape, seed: int = 0):
    """``layer`` between an input and a 2-unit Dense head, every float weight random (so zero-
    initialised ones, biases and logits, carry information too)."""
    import keras

    model = keras.Sequential([keras.Input(tuple(input_shape)), layer, keras.layers.Flatten(), keras.layers.Dense(2)])
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if "float" in str(w.dtype):
            w.assign(rng.normal(scale=0.5, size=w.shape).astype(w.dtype))
    return model


def _config(layer) -> dict:
    return {k: v for k, v in layer.get_config().items() if k != "name"}


def check_save_load(under: FamilyUnderCheck) -> Outcome:
    """A model holding the layer saves to ``.keras`` and loads with the same class, weights,
    trainable flags, config and outputs (bit for bit)."""
    import keras

    chosen = under.spread(ends=True)  # the defaults and the last configuration
    problems = []
    with tempfile.TemporaryDirectory(prefix="wsbench-check-") as tmp:
        for i, b in enumerate(chosen):
            try:
                layer = under.new_layer(b.case)
                model = small_model(layer, b.case.input_shape)
                path = Path(tmp) / f"{under.name}_{i}.keras"
                model.save(path)
                loaded = keras.saving.load_model(path)
                twin = loaded.layers[0]
                differ = []
                if type(twin) is not type(layer):
                    differ.append(f"class {type(twin).__name__}")
                if [w.trainable for w in twin.weights] != [w.trainable for w in layer.weights]:
                    differ.append("trainable flags")
                if len(twin.weights) != len(layer.weights) or not all(
                        np.array_equal(np.asarray(a), np.asarray(c)) for a, c in zip(twin.weights, layer.weights)):
                    differ.append("weights")
                if _config(twin) != _config(layer):
                    differ.append("config")
                gap = float(np.max(np.abs(np.asarray(loaded(b.x)) - np.asarray(model(b.x)))))
                if gap != 0:
                    differ.append(f"outputs (largest difference {gap:.3g})")
            except Exception as exc:  # noqa: BLE001
                problems.append((b.case, "save and load", f"{type(exc).__name__}: {exc}"))
                continue
            if differ:
                problems.append((b.case, "the same class, weights, trainable flags, config and outputs",
                                 "different " + ", ".join(differ)))
    return from_problems(under.name, "save_load", "the same class, weights, config and outputs after .keras save "
                         "and load", problems, len(chosen), f"so for {plural(len(chosen), 'configuration')}")


def check_get_config(under: FamilyUnderCheck) -> Outcome:
    """``type(layer).from_config(layer.get_config())`` has the same config and, given the same
    weights, the same outputs."""
    chosen = under.spread()
    problems = []
    for b in chosen:
        try:
            clone = type(b.layer).from_config(b.layer.get_config())
            clone(b.x)
            clone.set_weights(b.layer.get_weights())
            differ = []
            if _config(clone) != _config(b.layer):
                keys = sorted(k for k in set(_config(clone)) | set(_config(b.layer))
                              if _config(clone).get(k) != _config(b.layer).get(k))
                differ.append(f"config keys {keys}")
            if not np.array_equal(np.asarray(clone(b.x)), b.y):
                differ.append("outputs")
        except Exception as exc:  # noqa: BLE001
            problems.append((b.case, "from_config(get_config()) to rebuild the layer", f"{type(exc).__name__}: {exc}"))
            continue
        if differ:
            problems.append((b.case, "the same config and outputs", "different " + ", ".join(differ)))
    return from_problems(under.name, "get_config", "from_config(get_config()) to give the same config and outputs",
                         problems, len(chosen), f"so in {plural(len(chosen), 'case')}")
