"""A tiny keras-tuner RandomSearch over a model built from each family runs to completion."""

from __future__ import annotations

import gc

import keras
import keras_tuner
import numpy as np

import layers


def test_random_search_completes_two_trials(family_name, tmp_path, rng, monkeypatch):
    family = layers.get_family(family_name)
    # keras-tuner clears the Keras session around every trial and clearing runs a full
    # gc.collect(), which walks TensorFlow's whole heap (~1 s each here); no test
    # depends on that memory being reclaimed promptly.
    monkeypatch.setattr(gc, "collect", lambda *args, **kwargs: 0)

    def build_model(hp):
        kwargs = family.hyperparameters(hp)
        # A shared continuous choice, so families that declare nothing still get 2 distinct trials.
        learning_rate = hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")
        model = keras.Sequential([
            keras.Input((8, 8, 1)),
            family.build(4, 3, 1, "valid", activation="relu", **kwargs),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], run_eagerly=True)  # tracing would dominate 2 tiny trials
        return model

    x = rng.normal(size=(24, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, size=24)
    tuner = keras_tuner.RandomSearch(
        build_model, objective="val_accuracy", max_trials=2, seed=1,
        directory=str(tmp_path), project_name=family_name, overwrite=True,
    )

    tuner.search(x[:16], y[:16], validation_data=(x[16:], y[16:]), epochs=1, batch_size=8, verbose=0)

    trials = tuner.oracle.trials.values()
    assert len(trials) == 2
    assert all(t.status == keras_tuner.engine.trial.TrialStatus.COMPLETED for t in trials)
    assert all(np.isfinite(t.score) for t in trials)
    assert len({repr(sorted(t.hyperparameters.values.items())) for t in trials}) == 2
