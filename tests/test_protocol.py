"""The training protocol (bench.run.protocol): steps, schedule, best checkpoint, and the
convergence flag, on made-up histories and on real models stopped early or trained out."""

from __future__ import annotations

import math

import keras
import keras_tuner as kt
import numpy as np
import pytest

from bench.data import load_dataset
from bench.run.config import BenchConfig
from bench.run.evaluation import recipe
from bench.run.hypermodel import BudgetedHyperModel
from bench.run.protocol import Protocol, convergence


def history(accuracies, every=100):
    return [{"step": every * (i + 1), "val_accuracy": a, "val_loss": 1 - a, "loss": 1 - a}
            for i, a in enumerate(accuracies)]


def test_a_model_still_climbing_in_the_last_fifth_has_not_converged():
    # 1,000 validation images: one standard error at 0.80 is 0.0126; the last fifth gains 0.05.
    converged, gain = convergence(history([0.5, 0.6, 0.7, 0.75, 0.78, 0.79, 0.8, 0.8, 0.84, 0.85]), 1000, 1000)
    assert not converged and gain == pytest.approx(0.05)


def test_a_model_that_flattened_has_converged_even_if_the_last_step_is_best_by_a_hair():
    # The last fifth beats the best before by 0.004 < one standard error (0.0063 at 0.96 on 1,000 images).
    converged, gain = convergence(history([0.9, 0.95, 0.955, 0.958, 0.96, 0.96, 0.96, 0.96, 0.962, 0.964]), 1000,
                                  1000)
    assert converged and gain == pytest.approx(0.004)


def test_one_image_is_the_smallest_improvement_that_counts():
    # At 100 % accuracy the standard error is 0; one image of 216 (0.0046) still does not count,
    # two do.
    one, two = [214 / 216, 215 / 216, 215 / 216, 215 / 216, 215 / 216, 1.0], [214 / 216] * 5 + [1.0]
    assert convergence(history(one), 600, 216)[0]
    assert not convergence(history(two), 600, 216)[0]


def test_the_schedule_warms_up_linearly_then_decays_to_zero():
    protocol = Protocol(steps=1000, batch_size=8, warmup=0.1, eval_every=100)
    lr = protocol.schedule(0.02)
    values = [float(lr(step)) for step in (0, 50, 100, 550, 1000)]
    assert values[0] == pytest.approx(0.0, abs=1e-9)
    assert values[1] == pytest.approx(0.01, rel=1e-3)   # half-way through the warm-up
    assert values[2] == pytest.approx(0.02, rel=1e-3)   # the peak
    assert values[3] == pytest.approx(0.01, rel=1e-2)   # half-way through the cosine
    assert values[4] == pytest.approx(0.0, abs=1e-6)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def train_recipe(digits, steps, eval_every):
    settings = BenchConfig(steps=steps, eval_every=eval_every)
    hypermodel = BudgetedHyperModel("conv", digits.input_shape, digits.num_classes, 3000, settings)
    keras.utils.set_random_seed(0)
    model = hypermodel.build(recipe(hypermodel))
    result = hypermodel.train(model, digits.x_train, digits.y_train, (digits.x_val, digits.y_val), seed=0)
    return model, result


def test_a_real_model_stopped_early_is_flagged_and_a_trained_one_is_not(digits):
    """Deliberately stopped early (60 steps, still learning fast) it is flagged; given the
    default profile's 400 steps it is not."""
    _, early = train_recipe(digits, 60, 10)
    assert not early.converged and early.gain_last_fifth > 0.01, early.history
    _, trained = train_recipe(digits, 400, 50)
    assert trained.converged and trained.val_accuracy > 0.95, trained.history


def test_the_best_checkpoint_is_restored(digits):
    model, result = train_recipe(digits, 60, 10)
    best = max(result.history, key=lambda h: (h["val_accuracy"], -h["val_loss"]))
    assert result.best_step == best["step"] and result.val_accuracy == best["val_accuracy"]
    loss, accuracy = model.evaluate(digits.x_val, digits.y_val, verbose=0, batch_size=512)
    assert accuracy == pytest.approx(best["val_accuracy"], abs=1e-6)
    assert loss == pytest.approx(best["val_loss"], rel=1e-5)
