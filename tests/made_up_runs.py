"""Small made-up runs for the tests of summary.csv, `wsbench compare` and study summaries:
copies of the stored fixture run (tests/fixtures/run_small) whose final.csv is rewritten with
chosen whole numbers of correct test images, so every verdict and rank is known in advance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterable, Optional

import numpy as np
import pandas as pd

from bench.store import FINAL
from results_fixture import copy_fixture_run

FAMILIES = ("conv", "locally_connected", "sisws", "sisws_trainable")
BUDGETS = (300, 3000)
IMAGES = 360  # the fixture's test split (digits)


def made_up_run(parent: Path, name: str, dataset: str = "digits", shifts: Optional[Dict[str, int]] = None,
                seeds: int = 3, base: int = 300, jitter: int = 1, infeasible: Iterable = (), seed: int = 0,
                budgets=BUDGETS) -> Path:
    """A run of the fixture's four families at ``budgets`` on ``dataset`` (renamed in run.json)
    whose seeds got ``base`` + shift (images, per family) ± ``jitter`` test images right, the
    same jitter for every family at a seed (so paired differences are exact); ``infeasible``
    holds (family, budget) cells without a model."""
    run_dir = copy_fixture_run(parent, name)
    meta = json.loads((run_dir / "run.json").read_text())
    meta["run_id"] = meta["config"]["run_name"] = name
    meta["config"]["dataset"] = meta["dataset"]["name"] = dataset
    meta["config"]["budgets"] = list(budgets)
    meta["config"]["seeds"] = seeds
    meta["config"]["throughput"] = False
    (run_dir / "run.json").write_text(json.dumps(meta))
    (run_dir / "throughput.csv").unlink()
    rng = np.random.default_rng(seed)
    noise = rng.integers(-jitter, jitter + 1, size=seeds)
    shifts = shifts or {}
    rows = []
    for family in FAMILIES:
        for budget in budgets:
            if (family, budget) in set(infeasible):
                rows.append(row(name, dataset, family, budget, "", "infeasible", reason="no configuration meets the "
                                                                                         "budget"))
                continue
            for s in range(seeds):
                correct = int(base + shifts.get(family, 0) + noise[s])
                rows.append(row(name, dataset, family, budget, s + 7, "completed", correct=correct))
    pd.DataFrame(rows, columns=list(FINAL.columns)).to_csv(run_dir / "final.csv", index=False)
    return run_dir


def row(run: str, dataset: str, family: str, budget: int, seed, status: str, correct: Optional[int] = None,
        reason: str = "") -> dict:
    done = status == "completed"
    return {"run_id": run, "dataset": dataset, "family": family, "budget": budget, "seed": seed, "status": status,
            "reason": reason, "trial": 0 if done else "", "hp": "{}" if done else "", "widths": "3-6" if done else "",
            "params": budget if done else "", "test_accuracy": correct / IMAGES if done else "",
            "test_correct": correct if done else "", "test_loss": 0.5 if done else "",
            "val_accuracy": 0.9 if done else "",
            "val_loss": 0.5 if done else "", "best_step": 60 if done else "", "steps": 60 if done else "",
            "converged": done, "gain_last_fifth": 0.0 if done else "", "loss_drop_last_fifth": 0.0 if done else "",
            "diverged": False, "train_s": 1.0 if done else ""}
