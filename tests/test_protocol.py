"""The training protocol: steps, schedule, best checkpoint, and the one rule of "would gain
from more steps" (bench.run.convergence), on made-up validations, saturated and not, and on
real models stopped early or trained out."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from bench.data import load_dataset
from bench.run.config import BenchConfig
from bench.run.convergence import Check, improved, last_fifth
from bench.run.evaluation import recipe
from bench.run.hypermodel import BudgetedHyperModel
from bench.run.protocol import Protocol


def check(step, right, images, loss=0.5):
    """A made-up validation: the first ``right`` of ``images`` images right, every loss ``loss``."""
    return Check(step, np.arange(images) < right, np.full(images, float(loss)))


def checks(rights, images, every=100, losses=None):
    losses = losses or [0.5] * len(rights)
    return [check(every * (i + 1), r, images, l) for i, (r, l) in enumerate(zip(rights, losses))]


def test_a_model_still_climbing_in_the_last_fifth_has_not_converged():
    # 1,000 validation images: one standard error at 0.80 is 0.0126; the last fifth gains 0.05.
    converged, gain, _ = last_fifth(checks([500, 600, 700, 750, 780, 790, 800, 800, 840, 850], 1000), 1000, 10)
    assert not converged and gain == pytest.approx(0.05)


def test_a_model_that_flattened_has_converged_even_if_the_last_step_is_best_by_a_hair():
    # The last fifth beats the best before by 0.004 < one standard error (0.0063 at 0.96 on 1,000 images).
    converged, gain, _ = last_fifth(checks([900, 950, 955, 958, 960, 960, 960, 960, 962, 964], 1000), 1000, 10)
    assert converged and gain == pytest.approx(0.004)


def test_one_image_is_the_smallest_improvement_that_counts():
    one, two = checks([214, 215, 215, 215, 215, 216], 216), checks([214] * 5 + [216], 216)
    assert last_fifth(one, 600, 10)[0]  # one image more in the last fifth: within noise
    assert not last_fifth(two, 600, 10)[0]


def test_at_saturation_a_falling_loss_still_counts_and_a_flat_one_does_not():
    """Every validation image right before the last fifth: accuracy cannot rise, so the loss
    decides. It must fall by more than two standard errors of its paired differences and by at
    least ln(10)/216."""
    falling = checks([216] * 6, 216, losses=[0.3, 0.2, 0.15, 0.12, 0.11, 0.05])
    assert not last_fifth(falling, 600, 10)[0]
    flat = checks([216] * 6, 216, losses=[0.3, 0.2, 0.15, 0.12, 0.115, 0.113])
    assert last_fifth(flat, 600, 10)[0]  # 0.12 -> 0.113: 0.007 < ln(10)/216 = 0.0107
    # A mean drop of 0.06 made of half the images 1.0 worse and half 1.12 better: within the
    # two standard errors of the paired differences (2 × 0.072) it must exceed: not an improvement.
    before = check(500, 216, 216, 1.5)
    after = Check(600, before.correct, before.loss + np.where(np.arange(216) % 2, 1.0, -1.12))
    moved, _, drop = improved(before, after, 10)
    assert drop == pytest.approx(0.06) and not moved
    # The same drop at 1.9 standard errors (halves +0.4 / −0.52) still is not; at 3.4 (+0.2 / −0.32) it is.
    for up, down, counts in ((0.4, -0.52, False), (0.2, -0.32, True)):
        after = Check(600, before.correct, before.loss + np.where(np.arange(216) % 2, up, down))
        assert improved(before, after, 10)[0] is counts


def test_loss_does_not_count_while_accuracy_can_still_move():
    # 80 % right: a lower loss with no accuracy gain is not an improvement (accuracy decides).
    before, after = check(400, 800, 1000, 0.6), check(500, 800, 1000, 0.3)
    assert improved(before, after, 10)[0] is False


def test_the_schedule_warms_up_linearly_then_decays_to_zero():
    protocol = Protocol(steps=1000, batch_size=8, warmup=0.1, eval_every=100)
    lr = protocol.schedule(0.02)
    values = [float(lr(step)) for step in (0, 50, 100, 550, 1000)]
    assert values[0] == pytest.approx(0.0, abs=1e-9)
    assert values[1] == pytest.approx(0.01, rel=1e-3)   # half-way through the warm-up
    assert values[2] == pytest.approx(0.02, rel=1e-3)   # the peak
    assert values[3] == pytest.approx(0.01, rel=1e-2)   # half-way through the cosine
    assert values[4] == pytest.approx(0.0, abs=1e-6)


def test_the_protocol_is_recorded_from_its_own_fields():
    protocol = Protocol.of(BenchConfig(steps=800))
    described = protocol.describe()
    assert (protocol.eval_every, described["eval_every"]) == (100, 100)  # 8 validations when the run does not say
    for name in ("steps", "batch_size", "warmup", "optimizer", "loss", "eval_batch", "steps_per_execution",
                 "together"):
        assert described[name] == getattr(protocol, name)
    assert 100 % protocol.steps_per_execution == 0


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def train_recipe(digits, steps, eval_every):
    settings = BenchConfig(steps=steps, eval_every=eval_every)
    hypermodel = BudgetedHyperModel("conv", digits.input_shape, digits.num_classes, 3000, settings)
    hp = recipe(hypermodel)
    keras.utils.set_random_seed(0)
    model = hypermodel.build(hp)
    (result,) = hypermodel.train([model], [0], hp, digits.x_train, digits.y_train, (digits.x_val, digits.y_val))
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
    probabilities = model.predict(digits.x_val, verbose=0, batch_size=512)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == digits.y_val))
    loss = float(np.mean(-np.log(np.clip(probabilities[np.arange(len(digits.y_val)), digits.y_val], 1e-7, 1))))
    assert accuracy == pytest.approx(best["val_accuracy"], abs=1e-9)
    assert loss == pytest.approx(best["val_loss"], rel=1e-5)
    assert math.isfinite(result.val_loss)
