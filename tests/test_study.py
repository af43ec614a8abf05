"""Known answers (bench.study): the rules that decide whether the benchmark found what a
controlled dataset is built to show, and the summary written from stored runs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bench.report.tables import accuracy_summary, cells_of
from bench.stats.comparisons import compare_all
from bench.study.answers import evaluate
from bench.study.summary import write_summary
from results_fixture import copy_fixture_run

IMAGES = 400


def comparisons(shifts):
    """The comparisons of a made-up run at one budget: family → its accuracy over conv's, on
    10 seeds (enough for a verdict under Holm's correction), each seed ±1 image of it."""
    rng = np.random.default_rng(0)
    rows = [{"family": f, "budget": 3000, "seed": str(s), "status": "completed", "reason": "", "params": 3000,
             "test_accuracy": (round(0.6 * IMAGES) + round(shift * IMAGES) + int(rng.integers(-1, 2))) / IMAGES,
             "converged": True}
            for f, shift in {"conv": 0.0, **shifts}.items() for s in range(10)]
    families = ["conv", *shifts]
    return compare_all(cells_of(accuracy_summary(pd.DataFrame(rows), families, IMAGES)), families, margin=0.01)


def test_what_is_where_passes_when_every_position_aware_family_is_better_than_conv():
    verdict = evaluate("shapes-aligned", "what-is-where", comparisons(
        {"locally_connected": 0.2, "sisws": 0.3, "coordconv": 0.25}))
    assert verdict.passed and len(verdict.checks) == 3
    assert all(c.endswith("— better") for c in verdict.checks)


def test_what_is_where_fails_when_one_position_aware_family_is_not_better():
    verdict = evaluate("shapes-aligned", "what-is-where", comparisons(
        {"locally_connected": 0.0, "sisws": 0.3, "coordconv": 0.25}))
    assert not verdict.passed
    assert any("locally_connected" in c and "NOT better" in c for c in verdict.checks)


def test_what_only_passes_unless_locally_connected_is_better_than_conv():
    same = evaluate("shapes-anywhere", "what-only", comparisons({"locally_connected": 0.0, "sisws": 0.2}))
    assert same.passed and len(same.checks) == 1  # only locally_connected is judged
    worse = evaluate("shapes-anywhere", "what-only", comparisons({"locally_connected": 0.15}))
    assert not worse.passed and "conv WORSE" in worse.checks[0]


def test_a_run_without_conv_cannot_show_the_answer():
    verdict = evaluate("shapes-aligned", "what-is-where", compare_all({}, ["sisws"], margin=0.01))
    assert not verdict.passed


@pytest.mark.parametrize("dataset,rule", [("shapes-aligned", "what-is-where"), ("shapes-anywhere", "what-only")])
def test_the_summary_is_written_from_the_stored_runs(tmp_path, dataset, rule):
    run_dir = copy_fixture_run(tmp_path, f"study-{dataset}")
    meta = json.loads((run_dir / "run.json").read_text())
    meta["config"]["dataset"] = dataset
    (run_dir / "run.json").write_text(json.dumps(meta))
    verdicts = write_summary(tmp_path / "study-shapes", [run_dir]).known_answers
    out = tmp_path / "study-shapes"
    assert [v.rule for v in verdicts] == [rule]
    text = (out / "summary.md").read_text()
    assert f"### {dataset} ({rule}): {'FOUND' if verdicts[0].passed else 'NOT FOUND'}" in text
    assert (out / "summary.png").stat().st_size > 5000
    stored = json.loads((out / "verdicts.json").read_text())
    assert stored[0]["passed"] == verdicts[0].passed and stored[0]["checks"] == verdicts[0].checks


# -- the real-image study: per-dataset verdicts, the aggregate, average ranks -----------------------
REAL_SHIFTS = {"locally_connected": -10, "sisws": 5, "sisws_trainable": 0}  # test images over conv, every seed


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """A made-up real-image study: three runs whose families sit at fixed distances from conv."""
    from made_up_runs import made_up_run

    parent = tmp_path_factory.mktemp("results")
    runs = [made_up_run(parent, "real-digits", "digits", REAL_SHIFTS, seeds=10),
            made_up_run(parent, "real-mnist-5k", "mnist-5k", REAL_SHIFTS, seeds=6, seed=1,
                        infeasible=[("locally_connected", 300)]),
            made_up_run(parent, "real-faces", "faces", REAL_SHIFTS, seeds=3, seed=2)]
    out = parent / "study-real"
    return runs, out, write_summary(out, runs, aggregate=True)


def test_the_real_study_writes_verdicts_per_dataset_budget_and_family(real):
    runs, out, summary = real
    verdicts = pd.read_csv(out / "verdicts.csv", keep_default_na=False)
    assert len(verdicts) == 3 * 2 * 3 and set(verdicts["dataset"]) == {"digits", "mnist-5k", "faces"}
    by_cell = verdicts.set_index(["dataset", "budget", "family"])["verdict"]
    # 10 seeds, 6 comparisons: decided; 3 seeds: the exact test cannot reach Holm's level.
    assert by_cell[("digits", 300, "sisws")] == "better" and by_cell[("digits", 300, "locally_connected")] == "worse"
    assert by_cell[("faces", 3000, "sisws")] == "inconclusive"
    assert by_cell[("mnist-5k", 300, "locally_connected")] == "infeasible"
    text = (out / "summary.md").read_text()
    assert "| family | digits @ 300 | digits @ 3,000 | mnist-5k @ 300 |" in text
    assert "**better** (+1.4, [+1.4, +1.4])" in text  # 5 of 360 test images
    assert "each pooled feature sees a window of 10×10 (3×3 kernels) to 16×16 (5×5 kernels)" in text
    assert (out / "summary.png").stat().st_size > 5000 and (out / "ranks.png").stat().st_size > 5000
    assert json.loads((out / "verdicts.json").read_text()) == []  # no known answers here


def test_the_aggregate_gives_rliable_s_statistics_over_tasks(real):
    _, out, summary = real
    table = pd.read_csv(out / "aggregate.csv").set_index("family")
    # Each family is a fixed number of images from conv at every seed of every task: every
    # paired difference is that number, and every seed beats (or loses to) every conv seed.
    assert table.loc["sisws", "iqm_delta"] == pytest.approx(5 / 360)
    assert table.loc["sisws", "iqm_delta_low"] == pytest.approx(5 / 360) == table.loc["sisws", "iqm_delta_high"]
    assert table.loc["sisws", "p_improvement"] == 1.0 and table.loc["locally_connected", "p_improvement"] == 0.0
    # Level with conv: every seed pair (i, j) has its mirror (j, i), ties count half.
    assert table.loc["sisws_trainable", "p_improvement"] == pytest.approx(0.5)
    assert table.loc["sisws_trainable", "p_improvement_low"] < 0.5 < table.loc["sisws_trainable", "p_improvement_high"]
    assert table.loc["sisws", "tasks"] == 6 and table.loc["locally_connected", "tasks"] == 5
    assert (table["seeds_per_task"] == 3).all()  # the fewest seeds of any cell (faces)
    text = (out / "summary.md").read_text()
    assert "**Method**" in text and "**Caveats**" in text and "stratified bootstrap" in text


def test_the_bootstrap_resamples_seeds_within_each_task():
    from bench.study.aggregate import Scores, aggregate

    # Task A: +10 images at every seed, task B: -10. A stratified resample keeps 4 values of each
    # task, so the interquartile mean of every resample is 0 (a pooled resample would vary).
    cells = {}
    for task, shift in ((("a", 1), 10), (("b", 1), -10)):
        cells[(task, "conv")] = {s: 0.5 for s in range(4)}
        cells[(task, "sisws")] = {s: 0.5 + shift / 100 for s in range(4)}
    row = aggregate(Scores(cells), ["conv", "sisws"]).iloc[0]
    assert row["iqm_delta"] == pytest.approx(0) and row["iqm_delta_low"] == pytest.approx(0)
    assert row["iqm_delta_high"] == pytest.approx(0) and row["p_improvement"] == 0.5


def test_average_ranks_friedman_and_the_critical_difference_follow_demsar(real):
    _, out, summary = real
    ranks = summary.ranks
    # locally_connected has no model at one task: left out, and named.
    assert list(ranks.accuracy.columns) == ["conv", "sisws", "sisws_trainable"]
    assert "locally_connected" in ranks.left_out and "mnist-5k @ 300" in ranks.left_out["locally_connected"]
    # conv and sisws_trainable tie at every task: both at the average of ranks 2 and 3.
    assert ranks.average.to_dict() == {"sisws": 1.0, "conv": 2.5, "sisws_trainable": 2.5}
    n, k = ranks.tasks, 3
    r = ranks.ranks.mean()
    chi2 = 12 * n / (k * (k + 1)) * ((r ** 2).sum() - k * (k + 1) ** 2 / 4)  # Demšar (2006), eq. for Friedman
    assert n == 6 and ranks.chi2 == pytest.approx(chi2 * _tie_correction(ranks.ranks), rel=1e-9)
    assert ranks.cd == pytest.approx(2.343 * np.sqrt(k * (k + 1) / (6 * n)), abs=1e-3)  # q_0.05 = 2.343 for k = 3
    table = pd.read_csv(out / "ranks.csv")
    assert list(table["task"]) == list(ranks.accuracy.index) and "sisws rank" in table


def _tie_correction(ranks: pd.DataFrame) -> float:
    """scipy's Friedman statistic divides by 1 - Σ(t³ - t) / (n k (k² - 1)) for ties."""
    n, k = ranks.shape
    ties = sum(((c ** 3) - c).sum() for c in (row.value_counts().to_numpy() for _, row in ranks.iterrows()))
    return 1 / (1 - ties / (n * k * (k * k - 1)))


def test_datasets_built_to_disagree_are_never_aggregated(tmp_path):
    from made_up_runs import made_up_run

    runs = [made_up_run(tmp_path, "study-shapes-aligned", "shapes-aligned", REAL_SHIFTS, seeds=10),
            made_up_run(tmp_path, "study-shapes-anywhere", "shapes-anywhere", REAL_SHIFTS, seeds=10, seed=1),
            made_up_run(tmp_path, "real-digits", "digits", REAL_SHIFTS, seeds=10, seed=2)]
    summary = write_summary(tmp_path / "study", runs, aggregate=True)
    assert [r.dataset for r in summary.pooled] == ["digits"]
    assert set(pd.read_csv(tmp_path / "study" / "verdicts.csv")["dataset"]) == {"shapes-aligned", "shapes-anywhere",
                                                                                 "digits"}
    text = (tmp_path / "study" / "summary.md").read_text()
    assert "Over 2 tasks (dataset × budget) of digits; shapes-aligned, shapes-anywhere (built to have a known " \
           "answer) are shown above, never aggregated" in text
    only_shapes = write_summary(tmp_path / "shapes", runs[:2], aggregate=True)
    assert only_shapes.aggregate is None and not (tmp_path / "shapes" / "aggregate.csv").exists()


def _window(depth: int, kernel: int, unit: int) -> tuple:
    """The input rows one unit after the last pool depends on, traced back block by block
    ('same' padding: a k×k layer's output p reads p ± k // 2; a 2×2 pool's output p reads 2p, 2p + 1)."""
    low, high = unit, unit
    for _ in range(depth):
        low, high = 2 * low, 2 * high + 1
        low, high = low - kernel // 2, high + kernel // 2
    return low, high


@pytest.mark.parametrize("depth,kernel", [(2, 3), (2, 5), (3, 3), (3, 5)])
def test_the_stated_window_is_what_a_built_backbone_sees(depth, kernel):
    # On the real backbone: changing every pixel outside the window leaves the unit as it was;
    # changing the window's outermost rows and columns moves it.
    import keras

    from bench.run.backbone import build_backbone
    from bench.study.view import receptive_field

    size, unit = 48, 48 // 2 ** depth // 2
    low, high = _window(depth, kernel, unit)
    assert high - low + 1 == receptive_field(depth, kernel, size) and 0 < low and high < size - 1
    keras.utils.set_random_seed(0)
    model = build_backbone("conv", (size, size, 1), 10, 4, depth=depth, kernel_size=kernel)
    probe = keras.Model(model.input, model.get_layer(f"pool_{depth - 1}").output)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, size, size, 1)).astype("float32")
    inside = np.zeros((size, size), bool)
    inside[low:high + 1, low:high + 1] = True
    ring = inside.copy()
    ring[low + 1:high, low + 1:high] = False
    before = probe(x, training=False).numpy()[0, unit, unit]
    outside = np.where(inside[None, :, :, None], x, x + rng.normal(size=x.shape).astype("float32") * 5)
    assert np.array_equal(probe(outside, training=False).numpy()[0, unit, unit], before)
    edge = np.where(ring[None, :, :, None], x + rng.normal(size=x.shape).astype("float32") * 5, x)
    assert not np.allclose(probe(edge, training=False).numpy()[0, unit, unit], before)
