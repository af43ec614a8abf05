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


def bench(results: Path, run_name: str, trials: int, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "bench.cli", "bench", "--profile", "quick", "--families", "conv",
           "--budgets", "3000", "--max-trials", str(trials), "--steps", "10", "--eval-every", "5", "--seeds", "1", "--no-throughput",
           "--run-name", run_name, "--results-dir", str(results), *extra]
    return subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_chief_and_two_workers_finish_a_search_with_every_trial_once(tmp_path):
    proc = bench(tmp_path, "dist", 6, "--workers", "2")
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    trials = pd.read_csv(tmp_path / "dist" / "trials.csv", dtype={"trial_id": str})
    assert len(trials) == 6
    assert not trials.duplicated(["family", "budget", "trial_id"]).any()
    assert (trials["status"] == "completed").all(), trials
    # Each worker logs the trials it trained; both trained some.
    trained = {w: out.count(f"worker{w} trained") for w in (0, 1)}
    assert all(n > 0 for n in trained.values()), (trained, out)
    assert sum(trained.values()) == 6
    final = pd.read_csv(tmp_path / "dist" / "final.csv")
    assert len(final) == 1 and final["status"].iloc[0] == "completed"


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
