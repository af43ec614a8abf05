"""Saves one small model per family, or loads saved ones, and writes their predictions.

Run as ``python tests/cross_backend.py save|load DIR`` in a process whose Keras backend is
chosen by ``KERAS_BACKEND``; ``tests/test_cross_backend.py`` runs it under the backend the
test process does not run, and does the other half in-process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

INPUT = (8, 7, 2)
# Options that give each built-in family weights worth carrying over: random fixed centroids
# (non-trainable state), per-feature centroids, per-position mixing.
OPTIONS = {
    "sisws": {"n_centroids": 3, "per_feature": True, "seed": None},
    "sisws_trainable": {"n_centroids": (2, 2), "per_feature": True},
    "lrlc": {"rank": 2, "mixing": "position"},
}


def batch() -> np.ndarray:
    """The input every process predicts on."""
    return np.random.default_rng(7).normal(size=(4,) + INPUT).astype("float32")


def save(directory: Path) -> None:
    """``<family>.keras`` and ``<family>.npy`` (its predictions) for every family."""
    import keras

    import layers

    rng = np.random.default_rng(3)
    for name in layers.list_families():
        layer = layers.get_family(name).build(3, 3, 2, "same", activation="relu", **OPTIONS.get(name, {}))
        model = keras.Sequential([keras.Input(INPUT), layer, keras.layers.Flatten(), keras.layers.Dense(2)])
        # Every weight random, so zero-initialised ones (biases, logits) carry information too.
        for w in model.weights:
            w.assign(rng.normal(scale=0.5, size=w.shape).astype(w.dtype))
        model.save(directory / f"{name}.keras")
        np.save(directory / f"{name}.npy", np.asarray(model.predict(batch(), verbose=0)))


def load(directory: Path) -> None:
    """``<family>.loaded.npy``: the predictions of every ``<family>.keras`` loaded here."""
    import keras

    import layers

    layers.load_layer_classes()  # makes the layer classes known for deserialisation
    for path in sorted(directory.glob("*.keras")):
        model = keras.saving.load_model(path)
        np.save(directory / f"{path.stem}.loaded.npy", np.asarray(model.predict(batch(), verbose=0)))


def main(argv) -> int:
    import keras

    action, directory = argv[0], Path(argv[1])
    {"save": save, "load": load}[action](directory)
    (directory / f"{action}.json").write_text(json.dumps({"backend": keras.backend.backend()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
