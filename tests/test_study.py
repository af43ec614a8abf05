"""Known answers (bench.study): the rules that decide whether the benchmark found what a
controlled dataset is built to show, and the summary written from stored runs."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bench.report.tables import accuracy_summary
from bench.study.answers import evaluate
from bench.study.summary import write_summary
from results_fixture import copy_fixture_run

FAMILIES = ["conv", "locally_connected", "sisws", "coordconv"]


def summary(accuracies):
    """accuracy_summary of a final table: family → per-seed test accuracies, at one budget."""
    rows = [{"family": f, "budget": 3000, "seed": str(s), "status": "completed", "reason": "", "params": 3000,
             "test_accuracy": a, "converged": True}
            for f, accs in accuracies.items() for s, a in enumerate(accs)]
    return accuracy_summary(pd.DataFrame(rows), list(accuracies))


def test_what_is_where_passes_when_every_position_aware_family_beats_conv_significantly():
    verdict = evaluate("shapes-aligned", "what-is-where", summary({
        "conv": [0.60, 0.62, 0.61], "locally_connected": [0.80, 0.83, 0.81], "sisws": [0.90, 0.93, 0.91],
        "coordconv": [0.85, 0.88, 0.86]}))
    assert verdict.passed and len(verdict.checks) == 3
    assert all("beats it significantly" in c for c in verdict.checks)


def test_what_is_where_fails_when_one_position_aware_family_does_not():
    verdict = evaluate("shapes-aligned", "what-is-where", summary({
        "conv": [0.60, 0.62, 0.61], "locally_connected": [0.58, 0.66, 0.60], "sisws": [0.90, 0.93, 0.91],
        "coordconv": [0.85, 0.88, 0.86]}))
    assert not verdict.passed
    assert any("locally_connected" in c and "NOT significantly better" in c for c in verdict.checks)


def test_what_only_passes_unless_locally_connected_is_significantly_better_than_conv():
    same = evaluate("shapes-anywhere", "what-only", summary({
        "conv": [0.95, 0.96, 0.94], "locally_connected": [0.96, 0.95, 0.95], "sisws": [0.99, 0.99, 0.99]}))
    assert same.passed and len(same.checks) == 1  # only locally_connected is judged
    worse = evaluate("shapes-anywhere", "what-only", summary({
        "conv": [0.80, 0.81, 0.79], "locally_connected": [0.95, 0.97, 0.96]}))
    assert not worse.passed and "significantly WORSE" in worse.checks[0]


def test_a_run_without_conv_cannot_show_the_answer():
    verdict = evaluate("shapes-aligned", "what-is-where", summary({"sisws": [0.9, 0.91]}))
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
