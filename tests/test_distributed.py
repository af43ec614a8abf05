"""Distributed tuning on keras-tuner's chief/worker engine, over loopback only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", WSBENCH_DISABLE_PLUGINS="1")
pytestmark = pytest.mark.slow  # real `wsbench bench` processes


def bench(results: Path, run_name: str, trials: int, *extra: str, seeds: int = 1) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "bench.cli", "bench", "--profile", "quick", "--families", "conv",
           "--budgets", "3000", "--max-trials", str(trials), "--steps", "10", "--eval-every", "5", "--seeds", str(seeds),
           "--no-throughput", "--run-name", run_name, "--results-dir", str(results), *extra]
    return subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_chief_and_two_workers_finish_a_search_and_its_seeds_with_every_row_once(tmp_path):
    """Two workers train the search's 6 trials, then, through seed jobs served by the chief,
    the 3 final seeds and the baseline seed: the rows and numbers of a one-process run."""
    proc = bench(tmp_path, "dist", 6, "--workers", "2", seeds=3)
    local = bench(tmp_path, "local", 6, seeds=3)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    local.communicate(timeout=600)
    assert local.returncode == 0
    trials = pd.read_csv(tmp_path / "dist" / "trials.csv", dtype={"trial_id": str})
    assert len(trials) == 6
    assert not trials.duplicated(["family", "budget", "trial_id"]).any()
    assert (trials["status"] == "completed").all(), trials
    # Each worker logs what it trained; both trained some trials, and the workers every seed.
    trained = {w: out.count(f"worker{w} trained trial") for w in (0, 1)}
    assert all(n > 0 for n in trained.values()), (trained, out)
    assert sum(trained.values()) == 6
    assert sum(out.count(f"worker{w} trained final seed") for w in (0, 1)) == 3, out
    assert sum(out.count(f"worker{w} trained baseline seed") for w in (0, 1)) == 1, out
    for table in ("final", "baseline"):
        got = pd.read_csv(tmp_path / "dist" / f"{table}.csv").sort_values("seed").reset_index(drop=True)
        want = pd.read_csv(tmp_path / "local" / f"{table}.csv").sort_values("seed").reset_index(drop=True)
        assert (got["status"] == "completed").all() and len(got) == len(want), got
        pd.testing.assert_frame_equal(got[["seed", "hp", "params", "test_correct", "test_loss", "val_loss"]],
                                      want[["seed", "hp", "params", "test_correct", "test_loss", "val_loss"]])
    assert (tmp_path / "dist" / "models" / "conv__3000.keras").is_file()


def test_killing_a_worker_mid_search_lets_the_other_finish_it(tmp_path):
    proc = bench(tmp_path, "lost", 6, "--workers", "2")
    chief = psutil.Process(proc.pid)
    deadline = time.time() + 300
    victim = None
    trials_csv = tmp_path / "lost" / "trials.csv"
    while time.time() < deadline and victim is None:
        workers = [c for c in chief.children() if "--worker-id" in " ".join(c.cmdline())]
        if len(workers) == 2 and trials_csv.exists() and len(pd.read_csv(trials_csv)) >= 1:
            victim = workers[0]
        time.sleep(0.2)
    assert victim is not None, "the workers never started training"
    victim.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    trials = pd.read_csv(trials_csv, dtype={"trial_id": str})
    assert len(trials) == 6 and not trials.duplicated(["trial_id"]).any()
    assert (trials["status"] == "completed").all(), trials


def test_a_worker_joining_a_seed_job_leaves_the_chiefs_project_in_place(tmp_path):
    """The chief makes a seed job's keras-tuner project and its oracle writes its state there
    while it serves; a worker joining the job must not start the project anew (keras-tuner
    deletes the directory of a tuner made with overwrite=True). When one did, the chief's
    next save failed inside keras-tuner's oracle lock, which was never released: the run hung."""
    from bench.run.seed_jobs import seed_tuner
    from bench.store import RunDir

    run = RunDir(tmp_path / "run")
    tasks = [{"seed": s} for s in range(3)]
    chief = seed_tuner(run, 0, tasks, train=None, fresh=True)
    chief.oracle.save()
    state = run.tuner_dir / "seeds-0" / "oracle.json"
    assert state.is_file()
    seed_tuner(run, 0, tasks, train=None, fresh=False)  # a worker's
    assert state.is_file()
    chief.oracle.save()  # the chief can still write its state
