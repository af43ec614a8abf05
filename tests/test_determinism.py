"""Determinism on CPU: the same command with the same --seed gives the same trials (hyper-
parameters and validation metrics within 1e-6) and the same final test accuracies; another
--seed gives other ones. Three real `wsbench bench` processes run side by side."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from bench.store import FINAL, TRIALS

pytestmark = pytest.mark.slow  # real `wsbench bench` processes
ARGS = ["bench", "--profile", "quick", "--families", "conv", "--budgets", "3000", "--max-trials", "2", "--steps", "10", "--eval-every", "5", "--seeds", "1", "--no-throughput", "--run-name", "det"]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", WSBENCH_DISABLE_PLUGINS="1", CUDA_VISIBLE_DEVICES="")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """trials.csv and final.csv of runs 'a' and 'b' (--seed 0) and 'c' (--seed 1)."""
    dirs = {name: tmp_path_factory.mktemp(name) for name in "abc"}
    seeds = {"a": "0", "b": "0", "c": "1"}
    procs = {name: subprocess.Popen([sys.executable, "-m", "bench.cli", *ARGS, "--seed", seeds[name],
                                     "--results-dir", str(path)], env=ENV, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
             for name, path in dirs.items()}
    out = {}
    try:
        for name, proc in procs.items():
            text, _ = proc.communicate(timeout=900)
            assert proc.returncode == 0, text[-3000:]
            run = dirs[name] / "det"
            out[name] = {"trials": pd.read_csv(run / "trials.csv", dtype={"trial_id": str}).set_index(list(TRIALS.key)),
                         "final": pd.read_csv(run / "final.csv", dtype={"seed": str}).set_index(list(FINAL.key))}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return out


def test_same_seed_gives_the_same_trial_hyperparameters(runs):
    a, b = runs["a"]["trials"], runs["b"]["trials"]
    assert len(a) == 2 and list(a.index) == list(b.index)
    assert (a["status"] == "completed").all()
    assert list(a["hp"]) == list(b["hp"])
    assert list(a["params"]) == list(b["params"])


def test_same_seed_gives_the_same_validation_metrics(runs):
    a, b = runs["a"]["trials"], runs["b"]["trials"]
    for column in ("val_accuracy", "val_loss"):
        np.testing.assert_allclose(a[column].to_numpy(float), b[column].to_numpy(float), rtol=0, atol=1e-6,
                                   err_msg=column)


def test_same_seed_gives_the_same_final_test_accuracy(runs):
    a, b = runs["a"]["final"], runs["b"]["final"]
    assert list(a.index) == list(b.index) and len(a) == 1
    assert list(a["hp"]) == list(b["hp"])
    np.testing.assert_allclose(a["test_accuracy"].to_numpy(float), b["test_accuracy"].to_numpy(float), rtol=0,
                               atol=1e-6)
    np.testing.assert_allclose(a["test_loss"].to_numpy(float), b["test_loss"].to_numpy(float), rtol=0, atol=1e-6)


def test_another_seed_changes_hyperparameters_and_results(runs):
    a, c = runs["a"], runs["c"]
    assert list(a["trials"]["hp"]) != list(c["trials"]["hp"])
    assert not np.allclose(a["trials"]["val_loss"].to_numpy(float), c["trials"]["val_loss"].to_numpy(float),
                           rtol=0, atol=1e-6)
    # final.csv is keyed by the seed used, which follows --seed
    assert list(a["final"].index.get_level_values("seed")) == ["0"]
    assert list(c["final"].index.get_level_values("seed")) == ["1"]
    assert not np.isclose(a["final"]["test_loss"].iloc[0], c["final"]["test_loss"].iloc[0], rtol=0, atol=1e-6)
