"""A user's own .npz, run as a new user would: everything the run writes stays under its
results directory (relative and absolute dataset paths), and a family that cannot meet a
budget at all is recorded as infeasible while the other families run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from bench_process import finish, start, table

pytestmark = pytest.mark.slow(seconds=40)  # two real `wsbench bench` processes
BUDGET = 3000
ARGS = ["bench", "--profile", "quick", "--families", "conv,locally_connected", "--budgets", str(BUDGET),
        "--max-trials", "1", "--steps", "10", "--eval-every", "5", "--seeds", "1", "--no-throughput"]


def write_npz(path: Path) -> None:
    """16×16 grey uint8 digits without a channel axis: the narrowest locally_connected model
    (one filter per block) has 3,224 parameters there, over the 3,000 budget."""
    digits = load_digits()
    images = (np.kron(digits.images, np.ones((2, 2))) * (255 / 16)).astype(np.uint8)
    np.savez(path, x_train=images[:1400], y_train=digits.target[:1400], x_test=images[1400:],
             y_test=digits.target[1400:])


def listing(folder: Path) -> dict:
    """Every path below ``folder`` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Runs with a relative and with an absolute .npz path, from the dataset's own folder;
    returns {kind: (run dir, output, listing before, listing after)}."""
    data = tmp_path_factory.mktemp("data")
    write_npz(data / "mydata.npz")
    results = tmp_path_factory.mktemp("results")
    out = {}
    for kind, path in (("relative", "mydata.npz"), ("absolute", str(data / "mydata.npz"))):
        before = listing(data)
        text = finish(start(*ARGS, "--dataset", path, "--run-name", kind, results_dir=results, cwd=data))
        out[kind] = (results / kind, text, before, listing(data))
    return out


@pytest.mark.parametrize("kind", ["relative", "absolute"])
def test_nothing_outside_the_results_directory_changes(runs, kind):
    run_dir, text, before, after = runs[kind]
    assert "Test accuracy" in text, text[-2000:]
    assert after == before  # the dataset's folder: no tuner project, no stray file
    projects = sorted(p.name for p in (run_dir / "tuner").iterdir())
    assert projects == [f"conv__{BUDGET}"]  # the infeasible cell builds no model, so it has no project
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"


@pytest.mark.parametrize("kind", ["relative", "absolute"])
def test_an_infeasible_family_is_recorded_and_the_others_run(runs, kind):
    run_dir, text, _, _ = runs[kind]
    trials, final = table(run_dir, "trials"), table(run_dir, "final")
    lc_trials = trials[trials["family"] == "locally_connected"]
    lc_final = final[final["family"] == "locally_connected"]
    for rows in (lc_trials, lc_final):
        assert list(rows["status"]) == ["infeasible"]
        assert "even the narrowest model (one filter) has 3,224 parameters" in rows["reason"].iloc[0]
    assert list(final.loc[final["family"] == "conv", "status"]) == ["completed"]
    assert not (run_dir / "models" / f"locally_connected__{BUDGET}.keras").exists()
    printed = text[text.index("Test accuracy"):]
    assert "locally_connected" in printed and "infeasible" in printed
    assert "[locally_connected | budget 3,000] infeasible: no configuration meets the budget" in text
    assert text.count("[locally_connected | budget 3,000] infeasible") == 1  # once, not per stage
    assert os.path.isfile(run_dir / "models" / f"conv__{BUDGET}.keras")
