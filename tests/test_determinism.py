"""Another --seed gives other trials (hyperparameters, validation metrics) and other final
models: the same `wsbench bench` command line with --seed 0 and --seed 1, run through the
command line's own entry point in this process (the process start-up of a subprocess would
double its cost; the runs are the same).

That the same --seed gives the same rows and numbers (hyperparameters, validation metrics and
test accuracies within 1e-6) is shown by test_bench_e2e and test_adaptive_resume, which compare
runs killed and resumed in fresh processes with an uninterrupted run of the same command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.store import FINAL, TRIALS

pytestmark = pytest.mark.slow  # real `wsbench bench` runs
ARGS = ["bench", "--profile", "quick", "--families", "conv", "--budgets", "3000", "--max-trials", "2", "--steps", "10",
        "--eval-every", "5", "--seeds", "1", "--no-throughput", "--run-name", "det"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """--seed → trials.csv and final.csv of the run with that seed (0 and 1)."""
    out = {}
    for seed in "01":
        results = tmp_path_factory.mktemp(f"seed{seed}")
        assert main([*ARGS, "--seed", seed, "--results-dir", str(results)]) == 0
        run = results / "det"
        out[seed] = {"trials": pd.read_csv(run / "trials.csv", dtype={"trial_id": str}).set_index(list(TRIALS.key)),
                     "final": pd.read_csv(run / "final.csv", dtype={"seed": str}).set_index(list(FINAL.key))}
    return out


def test_another_seed_changes_hyperparameters_and_results(runs):
    a, c = runs["0"], runs["1"]
    assert list(a["trials"]["hp"]) != list(c["trials"]["hp"])
    assert not np.allclose(a["trials"]["val_loss"].to_numpy(float), c["trials"]["val_loss"].to_numpy(float),
                           rtol=0, atol=1e-6)
    # final.csv is keyed by the seed used, which follows --seed
    assert list(a["final"].index.get_level_values("seed")) == ["0"]
    assert list(c["final"].index.get_level_values("seed")) == ["1"]
    assert not np.isclose(a["final"]["test_loss"].iloc[0], c["final"]["test_loss"].iloc[0], rtol=0, atol=1e-6)
