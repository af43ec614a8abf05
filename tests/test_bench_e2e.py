"""A real, small `wsbench bench` run end to end: files, schema, equal effort, budgets,
the same results in two worker processes (--jobs 2) and after a kill, and the test split
kept out of the search."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

from bench.store import FINAL as FINAL_TABLE
from bench.store import TRIALS as TRIALS_TABLE

FAMILIES = ["conv", "sisws", "locally_connected"]
BUDGET = 3000
TRIALS, SEEDS = 2, 2
ARGS = ["bench", "--profile", "quick", "--families", ",".join(FAMILIES), "--budgets", str(BUDGET),
        "--max-trials", str(TRIALS), "--steps", "10", "--eval-every", "5", "--seeds", str(SEEDS), "--run-name", "e2e"]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", WSBENCH_DISABLE_PLUGINS="1")
pytestmark = pytest.mark.slow  # real `wsbench bench` processes


def wsbench(*args, results_dir: Path, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "bench.cli", *args, "--results-dir", str(results_dir)],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One uninterrupted run; returns (run_dir, printed output)."""
    results = tmp_path_factory.mktemp("results")
    proc = wsbench(*ARGS, results_dir=results)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    return results / "e2e", out


def test_all_files_exist_and_follow_the_schema(finished_run):
    run_dir, out = finished_run
    for name in ("run.json", "trials.csv", "final.csv", "throughput.csv"):
        assert (run_dir / name).is_file(), name
    meta = json.loads((run_dir / "run.json").read_text())
    for key in ("command", "config", "tuner", "dataset", "versions", "hardware", "git_commit", "started", "ended",
                "status"):
        assert key in meta, key
    assert meta["status"] == "complete"
    assert set(meta["versions"]) >= {"python", "tensorflow", "keras", "keras_tuner", "numpy"}
    assert set(meta["dataset"]["sizes"]) == {"train", "val", "test"}
    assert meta["config"]["families"] == FAMILIES and meta["config"]["seeds"] == SEEDS
    assert list(pd.read_csv(run_dir / "trials.csv").columns) == list(TRIALS_TABLE.columns)
    assert list(pd.read_csv(run_dir / "final.csv").columns) == list(FINAL_TABLE.columns)
    for family in FAMILIES:
        assert (run_dir / "models" / f"{family}__{BUDGET}.keras").is_file()
    # The run ends by printing the accuracy table with every family.
    table = out[out.index("Test accuracy"):]
    for family in FAMILIES:
        assert family in table


def test_every_family_gets_the_same_effort_and_lands_on_the_budget(finished_run):
    run_dir, _ = finished_run
    trials = pd.read_csv(run_dir / "trials.csv", dtype={"trial_id": str})
    counts = trials.groupby(["family", "budget"]).size()
    assert set(counts.index.get_level_values(0)) == set(FAMILIES)
    assert (counts == TRIALS).all(), counts
    assert not trials.duplicated(["family", "budget", "trial_id"]).any()
    done = trials[trials["status"] == "completed"]
    assert len(done) > 0
    assert ((done["params"] - BUDGET).abs() <= 0.05 * BUDGET).all()
    assert done["val_accuracy"].between(0, 1).all()
    for hp in trials["hp"]:
        assert {"learning_rate", "kernel_size", "dropout"} <= set(json.loads(hp))
    final = pd.read_csv(run_dir / "final.csv")
    completed = final[final["status"] == "completed"]
    assert (completed.groupby("family").size() == SEEDS).all()
    assert ((completed["params"] - BUDGET).abs() <= 0.05 * BUDGET).all()
    assert completed["test_accuracy"].between(0, 1).all()


def _wait_for_rows(path: Path, n: int, proc, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and len(pd.read_csv(path)) >= n:
            return
        if proc.poll() is not None:
            pytest.fail(f"the run ended before {path.name} had {n} rows: {proc.stdout.read()}")
        time.sleep(0.2)
    pytest.fail(f"{path.name} never reached {n} rows")


def _keyed(path: Path, key) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"trial_id": str, "seed": str}).set_index(key).sort_index()


def test_a_run_killed_with_two_jobs_resumes_to_the_rows_and_numbers_of_a_one_process_run(finished_run, tmp_path):
    """--jobs 2 runs cells in two worker processes. SIGKILL the parent mid-search: its
    workers die with it (none is left writing rows), and rerunning the command completes the
    tables with exactly the rows, and the numbers, of the uninterrupted one-process run."""
    reference, _ = finished_run
    proc = wsbench(*ARGS, "--jobs", "2", results_dir=tmp_path)
    _wait_for_rows(tmp_path / "e2e" / "trials.csv", 2, proc)
    workers = [c for c in psutil.Process(proc.pid).children() if "spawn_main" in " ".join(c.cmdline())]
    assert len(workers) == 2, [c.cmdline() for c in psutil.Process(proc.pid).children()]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, f"workers outlived the killed parent: {alive}"
    rerun = wsbench(*ARGS, "--jobs", "2", results_dir=tmp_path)
    out, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, out
    assert "2 cells at a time" in out
    for table, key, exact, close in (
            ("trials", ["family", "budget", "trial_id"], ["status", "hp", "params", "steps", "best_step"],
             ["val_accuracy", "val_loss"]),
            ("final", ["family", "budget", "seed"], ["status", "hp", "params", "steps", "best_step"],
             ["test_accuracy", "test_loss"])):
        got, want = _keyed(tmp_path / "e2e" / f"{table}.csv", key), _keyed(reference / f"{table}.csv", key)
        assert not got.index.duplicated().any()
        assert list(got.index) == list(want.index), table
        pd.testing.assert_frame_equal(got[exact], want[exact], check_dtype=False)
        np.testing.assert_allclose(got[close].to_numpy(float), want[close].to_numpy(float), rtol=0, atol=1e-6,
                                   err_msg=table)


def test_the_test_split_is_only_touched_by_the_final_evaluation(tmp_path, monkeypatch):
    """Every Keras call that receives the test images is an evaluate() made after the
    cell's search has written all its trials."""
    import keras

    import bench.data
    from bench.run.config import BenchConfig
    from bench.run.runner import run_bench

    dataset = bench.data.load_dataset("digits")
    monkeypatch.setattr(bench.data, "load_dataset", lambda *a, **k: dataset)
    calls = []

    def spy(method):
        original = getattr(keras.Model, method)

        def wrapped(self, *args, **kwargs):
            arrays = [a for a in list(args) + list(kwargs.values()) if isinstance(a, np.ndarray)]
            val = kwargs.get("validation_data") or ()
            arrays += [a for a in val if isinstance(a, np.ndarray)]
            touches = any(np.shares_memory(a, dataset.x_test) or np.shares_memory(a, dataset.y_test) for a in arrays)
            trials_path = tmp_path / "leak" / "trials.csv"
            n_trials = len(pd.read_csv(trials_path)) if trials_path.exists() else 0
            calls.append((method, touches, n_trials))
            return original(self, *args, **kwargs)

        monkeypatch.setattr(keras.Model, method, wrapped)

    for method in ("fit", "evaluate", "predict"):
        spy(method)
    run_bench(BenchConfig(dataset="digits", families=("conv",), budgets=(3000,), max_trials=2, steps=10, eval_every=5, seeds=2, baseline_seeds=0,
                          run_name="leak", results_dir=str(tmp_path), throughput=False, jobs=1), ["test"])
    touching = [c for c in calls if c[1]]
    assert [c[0] for c in touching] == ["evaluate"] * 2  # one per seed
    assert all(n == 2 for _, _, n in touching)  # after both trials were recorded
    assert sum(1 for c in calls if c[0] == "fit") == 2 + 2  # two trials, two seeds
