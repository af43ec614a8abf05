"""`--steps auto`'s decision to double (bench.run.steps.still_open) and the p-value behind it
(bench.run.convergence.improvement_p), proven on made-up validations with a known truth.

The probe asks two questions of every family at once (does 2N beat N; is N still improving in
its last fifth), so noise alone would make one of twelve answers "yes" most of the time. With
no true gain, the chance that the probe doubles must stay at or below 5 %; with one family's
true gain, it must double.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bench.run.convergence import Check, improved, improvement_p
from bench.run.steps import still_open
from bench.stats.verdicts import ALPHA

FAMILIES = ("conv", "locally_connected", "sisws", "sisws_trainable", "lrlc", "coordconv")
CLASSES = 10


def paired(rng, images: int, accuracy: float, fix: float, break_: float, loss_shift: float = 0.0):
    """(before, after): checks of one model on the same images. ``after`` fixes each image
    ``before`` got wrong with probability ``fix`` and breaks each it got right with probability
    ``break_``; its per-image losses are ``before``'s times a lognormal factor (mean shift
    ``loss_shift``, the same spread either way)."""
    right = rng.random(images) < accuracy
    after_right = np.where(right, rng.random(images) >= break_, rng.random(images) < fix)
    loss = rng.lognormal(-4.0, 1.0, images)
    after_loss = loss * rng.lognormal(-loss_shift, 0.3, images)
    return Check(400, right, loss), Check(800, after_right, after_loss)


def probe(rng, gain_family=None):
    """One simulated look: every family's two p-values under no true change (digits-like:
    216 validation images, accuracy 0.97 or saturated at 0.995), except ``gain_family``'s
    doubling, which truly gains (1,000 images at 0.90: 2N fixes 40 % of N's errors)."""
    entries = {}
    for family in FAMILIES:
        p = []
        for _ in range(2):
            accuracy = rng.choice([0.97, 0.995])
            wrong = 1 - accuracy
            before, after = paired(rng, 216, accuracy, fix=0.3, break_=0.3 * wrong / accuracy)
            p.append(improvement_p(before, after, CLASSES))
        if family == gain_family:
            before, after = paired(rng, 1000, 0.90, fix=0.4, break_=0.005)
            p[0] = improvement_p(before, after, CLASSES)
        entries[family] = {"p_doubling": p[0], "p_improving": p[1]}
    return still_open(entries)


def test_with_no_true_gain_the_probe_doubles_in_at_most_5_percent_of_looks():
    rng = np.random.default_rng(0)
    doubled = sum(bool(probe(rng)) for _ in range(2000))
    assert doubled / 2000 <= ALPHA, doubled


def test_with_one_family_truly_gaining_the_probe_doubles_for_that_family():
    rng = np.random.default_rng(1)
    looks = [probe(rng, gain_family="sisws") for _ in range(300)]
    assert np.mean(["sisws" in look for look in looks]) >= 0.95
    assert np.mean([set(look) - {"sisws"} != set() for look in looks]) <= ALPHA  # the others stay closed


def test_a_gain_within_the_split_s_resolution_has_p_1_whatever_its_significance():
    # 10,000 images, 0.90 -> 0.903: 30 images more, all fixed and none broken (McNemar p ~ 1e-9),
    # but less than one standard error of the accuracy (0.003 = 30 images): the rule counts no gain.
    right = np.arange(10000) < 9000
    before = Check(400, right, np.full(10000, 0.3))
    after = Check(800, np.arange(10000) < 9030, np.full(10000, 0.3))
    assert not improved(before, after, CLASSES)[0] and improvement_p(before, after, CLASSES) == 1.0


def test_the_p_values_are_mcnemar_s_exact_test_and_the_paired_t_test():
    rng = np.random.default_rng(2)
    before, after = paired(rng, 1000, 0.85, fix=0.3, break_=0.01)
    won = int(np.sum(after.correct & ~before.correct))
    lost = int(np.sum(before.correct & ~after.correct))
    assert improvement_p(before, after, CLASSES) == pytest.approx(
        stats.binom.sf(won - 1, won + lost, 0.5))  # P(X >= won), X ~ Binomial(won + lost, 1/2)
    # Saturated (one image wrong of 216): the loss decides, by the paired t test.
    right = np.arange(216) > 0
    loss = rng.lognormal(-4.0, 1.0, 216)
    before, after = Check(400, right, loss), Check(800, right, loss * rng.lognormal(-0.5, 0.3, 216))
    assert improved(before, after, CLASSES)[0]
    diff = before.loss - after.loss
    t = diff.mean() / (diff.std(ddof=1) / np.sqrt(216))
    assert improvement_p(before, after, CLASSES) == pytest.approx(stats.t.sf(t, 215))


def made_up_probe(monkeypatch, gains_until: int):
    """choose_steps over made-up recipe results: every family's plain recipe gets 40 more of
    1,000 validation images right with each doubling up to ``gains_until`` steps, then none
    (the same images: the later model's right ones include the earlier's)."""
    from types import SimpleNamespace

    from bench.run import steps

    def results(config, dataset, families, budget, count):
        right = 800 + 40 * int(np.log2(min(count, gains_until) / 400))
        correct = np.arange(1000) < right
        return {f: {"val_accuracy": right / 1000, "val_loss": 0.5, "converged": True, "improving_p": 1.0,
                    "correct": correct, "loss": np.full(1000, 0.5)} for f in families}

    monkeypatch.setattr(steps, "train_recipes", results)
    config = SimpleNamespace(budgets=(3000, 10000), max_steps=3200, seed=0)
    return steps.choose_steps(config, SimpleNamespace(num_classes=CLASSES), FAMILIES[:3], say=lambda line: None)


def test_the_probe_stops_where_doubling_stops_gaining(monkeypatch):
    record = made_up_probe(monkeypatch, gains_until=800)
    assert record["steps"] == 800 and not record["capped"]
    assert [look["steps"] for look in record["looks"]] == [400, 800]
    assert record["reason"].startswith("doubling to 1,600 steps changed no family's validation result")


def test_a_probe_that_reaches_the_cap_says_so_and_asks_only_whether_the_cap_still_improves(monkeypatch):
    record = made_up_probe(monkeypatch, gains_until=6400)
    assert record["steps"] == 3200 and record["capped"]
    assert record["reason"].startswith("the cap, --max-steps 3,200, was reached, with no family still improving")
    assert "p_doubling" not in record["looks"][-1]["families"]["conv"]  # nothing beyond the cap was trained
    assert still_open({"a": {"p_improving": 0.001}, "b": {"p_improving": 0.5}}) == ["a"]
