"""summary.csv: one row per family × budget of a run, the table a user pastes into a paper.

Written beside the run's other tables at the end of every run and again by ``wsbench report``
(so runs stored before it existed get it), from :func:`bench.report.data.load` alone: the
same means, intervals, differences and verdicts as report.md. Accuracies and differences are
fractions (0.012 = 1.2 percentage points), like final.csv's ``test_accuracy``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import pandas as pd

from bench.stats import REFERENCE

#: The file name, in the run's directory.
SUMMARY_CSV = "summary.csv"
#: The verdict of the reference's own cells (every other family is compared with it).
REFERENCE_VERDICT = "reference"
DELTA, DELTA_LOW, DELTA_HIGH = f"delta_vs_{REFERENCE}", "delta_ci_low", "delta_ci_high"
#: The columns, in order. ``ci_over``: what the 95 % interval of the mean is over ('seeds and
#: test images' when the run kept per-image results, else 'seeds'); ``train_img_s`` and its
#: slowest / fastest round come from throughput.csv (empty when the run did not measure it).
COLUMNS = ("dataset", "family", "budget", "status", "reason", "params", "seeds", "mean", "std", "ci_low", "ci_high",
           "ci_over", DELTA, DELTA_LOW, DELTA_HIGH, "p_holm", "verdict", "converged_seeds", "train_img_s",
           "train_img_s_min", "train_img_s_max")


def summary_table(data) -> pd.DataFrame:
    """The run's one-row-per-cell table (:data:`COLUMNS`), in the report's family then budget order.

    Args:
        data: a loaded run (:class:`bench.report.data.ReportData`).
    """
    dataset = str((data.meta.get("config") or {}).get("dataset") or (data.meta.get("dataset") or {}).get("name", ""))
    speed = {}
    if not data.throughput.empty:
        speed = {(str(r["family"]), int(r["budget"])): r for r in data.throughput.to_dict("records")}
    rows = []
    for r in data.summary.itertuples(index=False):
        done = r.status == "completed"
        measured = speed.get((r.family, int(r.budget)), {})
        verdict = r.verdict if isinstance(r.verdict, str) else (REFERENCE_VERDICT if r.family == REFERENCE and done
                                                                else "")
        rows.append({"dataset": dataset, "family": r.family, "budget": int(r.budget), "status": r.status,
                     "reason": r.reason, "params": r.params, "seeds": int(r.n), "mean": r.mean, "std": r.std,
                     "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "ci_over": ("seeds and test images" if r.images_resampled else "seeds") if done else "",
                     DELTA: r.diff_vs_reference, DELTA_LOW: r.diff_ci_low, DELTA_HIGH: r.diff_ci_high,
                     "p_holm": r.p_holm, "verdict": verdict,
                     "converged_seeds": int(r.n) - int(r.not_converged) if done else 0,
                     **{k: _number(measured.get(k)) for k in ("train_img_s", "train_img_s_min", "train_img_s_max")}})
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table["params"] = table["params"].astype(float).round().astype("Int64")  # whole parameters; empty without a model
    return table


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def write_summary_table(data) -> Path:
    """Writes ``summary.csv`` of a loaded run atomically; returns its path."""
    from bench.store.atomic import write_csv_atomic

    path = data.run.path / SUMMARY_CSV
    write_csv_atomic(summary_table(data), path)
    return path


def write_summary_csv(run_dir: Path) -> Optional[Path]:
    """Writes ``run_dir/summary.csv`` from the stored run; returns its path, or None when the
    run has no final evaluation yet (``wsbench baseline`` alone writes none).

    Raises:
        bench.report.data.ReportError: a table or run.json is corrupted (named).
    """
    from bench.report.data import load
    from bench.store import RunDir

    run = RunDir(run_dir)
    if not run.has("final") or run.read("final").empty:
        return None
    return write_summary_table(load(run.path))
