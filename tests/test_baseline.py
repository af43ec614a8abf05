"""`wsbench baseline` end to end: the plain recipe of every family and budget, untuned, into
baseline.csv of the same run a later `wsbench bench` with the same flags resumes."""

from __future__ import annotations

import json

import pytest

from bench_process import finish, start, table

pytestmark = pytest.mark.slow(seconds=45)  # real `wsbench` processes
ARGS = ["--profile", "quick", "--families", "conv,sisws", "--budgets", "3000", "--max-trials", "2", "--steps",
        "10", "--eval-every", "5", "--seeds", "2", "--baseline-seeds", "2", "--no-throughput", "--run-name", "b"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    proc = start("baseline", *ARGS, results_dir=results)
    baseline_out = finish(proc)
    assert proc.returncode == 0, baseline_out
    after_baseline = {t: table(results / "b", t) for t in ("trials", "final", "baseline")}
    proc = start("bench", *ARGS, results_dir=results)
    bench_out = finish(proc)
    assert proc.returncode == 0, bench_out
    return results / "b", baseline_out, after_baseline, bench_out


def test_the_baseline_trains_only_the_recipe(runs):
    run_dir, out, tables, _ = runs
    baseline = tables["baseline"]
    assert tables["trials"].empty and tables["final"].empty  # no search, no final evaluation
    assert len(baseline) == 4 and (baseline["status"] == "completed").all()
    assert sorted(baseline["seed"]) == ["0", "0", "1", "1"] and set(baseline["trial"]) == {"recipe"}
    for family, hp in zip(baseline["family"], baseline["hp"]):
        values = json.loads(hp)
        assert values["learning_rate"] == 0.01 and values["dropout"] == 0.1 and values["kernel_size"] == 3
        if family == "sisws":
            assert values["centroids"] == "grid2x2" and values["scale"] == 1.0
    assert "Test accuracy, plain recipe (untuned)" in out and "Test accuracy, tuned" not in out


def test_bench_resumes_the_same_run_without_training_the_baseline_again(runs):
    run_dir, _, before, out = runs
    after = table(run_dir, "baseline")
    assert after.drop(columns="train_s").equals(before["baseline"].drop(columns="train_s"))
    final = table(run_dir, "final")
    assert len(final) == 4 and (final["status"] == "completed").all()
    assert "Test accuracy, tuned" in out and "Test accuracy, plain recipe (untuned)" in out
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"
