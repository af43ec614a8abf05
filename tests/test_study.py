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
    verdicts = write_summary(tmp_path / "study-shapes", [run_dir])
    out = tmp_path / "study-shapes"
    assert [v.rule for v in verdicts] == [rule]
    text = (out / "summary.md").read_text()
    assert f"### {dataset} ({rule}): {'FOUND' if verdicts[0].passed else 'NOT FOUND'}" in text
    assert (out / "summary.png").stat().st_size > 5000
    stored = json.loads((out / "verdicts.json").read_text())
    assert stored[0]["passed"] == verdicts[0].passed and stored[0]["checks"] == verdicts[0].checks
