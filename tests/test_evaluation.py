"""bench.run.evaluation: later final seeds reuse the first seed's traced model, and that must not
change a single number."""

from __future__ import annotations

import keras
import keras_tuner as kt
import numpy as np
import pytest
import tensorflow as tf

from bench.data import load_dataset
from bench.run.evaluation import restart_from
from bench.compat import release_tf_graphs as release_graphs
from bench.run.config import BenchConfig
from bench.run.hypermodel import BudgetedHyperModel

pytestmark = pytest.mark.slow  # trains real models


@pytest.fixture(scope="module")
def digits():
    tf.config.experimental.enable_op_determinism()
    return load_dataset("digits")


SETTINGS = BenchConfig(steps=12, eval_every=4, batch_size=256)  # the run's protocol: schedule, tf.data, checkpoint


def _fit(hypermodel, hp, model, data, seed=1):
    result = hypermodel.train(model, data.x_train, data.y_train, (data.x_val, data.y_val), seed)
    return result.history, [v.numpy() for v in model.variables]


def test_a_restarted_model_trains_bit_for_bit_like_a_fresh_one(family_name, digits):
    """Seed 1 trained from scratch (a new model, traced anew) and seed 1 trained by restarting
    seed 0's trained model give identical losses, accuracies and final variables; dropout
    (rate 0.3), shuffling, the learning-rate schedule (its step count must restart too), batch
    norm and the best-checkpoint restore are all in play."""
    hypermodel = BudgetedHyperModel(family_name, digits.input_shape, digits.num_classes, 3000,
                                    SETTINGS)
    hp = kt.HyperParameters()
    hypermodel.build(hp)  # declares the defaults
    hp.values["dropout"] = 0.3

    keras.backend.clear_session()
    release_graphs()
    keras.utils.set_random_seed(1)
    want_history, want_vars = _fit(hypermodel, hp, hypermodel.build(hp), digits)

    keras.backend.clear_session()
    release_graphs()
    keras.utils.set_random_seed(0)
    model = hypermodel.build(hp)
    first_history, _ = _fit(hypermodel, hp, model, digits, seed=0)
    traced = model.train_function
    keras.utils.set_random_seed(1)
    restart_from(model, hypermodel.build(hp))
    got_history, got_vars = _fit(hypermodel, hp, model, digits)

    assert model.train_function is traced  # the point of restarting: nothing traced again
    assert [h["loss"] for h in first_history] != [h["loss"] for h in want_history]  # seed 0 was another run
    assert got_history == want_history
    assert len(got_vars) == len(want_vars)
    for got, want in zip(got_vars, want_vars):
        np.testing.assert_array_equal(got, want)


def test_restarting_from_another_architecture_is_refused(digits):
    settings = SETTINGS
    small = BudgetedHyperModel("conv", digits.input_shape, digits.num_classes, 3000, settings)
    large = BudgetedHyperModel("conv", digits.input_shape, digits.num_classes, 30000, settings)
    hp = kt.HyperParameters()
    model = small.build(hp)
    model.fit(digits.x_train[:64], digits.y_train[:64], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="not the same trained architecture"):
        restart_from(model, large.build(hp))


def test_a_model_kept_across_other_trials_still_restarts_bit_for_bit(digits):
    """The search's best model is kept for the final stage while later trials clear the Keras
    session, release traced graphs and build other models; restarting it afterwards still
    reproduces a fresh model exactly."""
    hypermodel = BudgetedHyperModel("sisws", digits.input_shape, digits.num_classes, 3000,
                                    SETTINGS)
    hp = kt.HyperParameters()
    hypermodel.build(hp)
    keras.backend.clear_session()
    release_graphs()
    keras.utils.set_random_seed(1)
    want_history, want_vars = _fit(hypermodel, hp, hypermodel.build(hp), digits)

    keras.utils.set_random_seed(0)
    kept = hypermodel.build(hp)
    _fit(hypermodel, hp, kept, digits, seed=0)
    other = kt.HyperParameters()
    other.values.update(hp.values, dropout=0.4)  # another architecture: the rate is traced in
    keras.backend.clear_session()  # what every later trial does first
    release_graphs()
    _fit(hypermodel, other, hypermodel.build(other), digits)
    keras.backend.clear_session()
    release_graphs()
    keras.utils.set_random_seed(1)
    got_history, got_vars = _fit(hypermodel, hp, restart_from(kept, hypermodel.build(hp)), digits)
    assert got_history == want_history
    for got, want in zip(got_vars, want_vars, strict=True):
        np.testing.assert_array_equal(got, want)
