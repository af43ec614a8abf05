"""The report's tables, computed from stored results: accuracy with uncertainty and the
comparison with the reference, tuning effort (the Pareto front is :mod:`bench.report.pareto`)."""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from bench.report.formatting import text_or_empty
from bench.stats.outcomes import Outcomes, accuracy_evidence, cell_outcomes
from bench.stats.seeds import CONFIDENCE
from bench.stats.twoway import t_interval



def family_order(run: dict, *tables: pd.DataFrame) -> List[str]:
    """Families in the run's configured order, then any others the tables hold (sorted)."""
    configured = [str(f) for f in (run.get("config", {}) or {}).get("families", []) or []]
    seen = set(configured)
    extra = sorted({str(f) for t in tables for f in t.get("family", pd.Series(dtype=str)).dropna()} - seen)
    return configured + extra


def accuracy_summary(table: pd.DataFrame, families: Sequence[str], images: int,
                     bits: Optional[Dict[Tuple[str, int], Dict[int, np.ndarray]]] = None) -> pd.DataFrame:
    """One row per family × budget of final.csv or baseline.csv: status, n, mean test accuracy,
    its std over seeds and 95 % interval (over seeds and test images when the run kept
    per-image results), the actual parameter count, seeds that had not converged and the
    :class:`~bench.stats.outcomes.Outcomes` of its seeds (whole correct images per seed).

    Cells without a completed seed keep their status (infeasible / failed) and reason, with
    NaN statistics. Rows are ordered by ``families`` then budget.
    """
    bits = bits or {}
    rows = []
    for (family, budget), group in table.groupby(["family", "budget"], sort=False):
        done = group[group["status"] == "completed"]
        row = {"family": str(family), "budget": int(budget), "status": "completed" if len(done) else
               str(group["status"].iloc[0]), "reason": "" if len(done) else text_or_empty(group["reason"].iloc[0]),
               "n": len(done), "mean": math.nan, "std": math.nan, "ci_low": math.nan, "ci_high": math.nan,
               "params": math.nan, "not_converged": int((~done["converged"].astype(bool)).sum()) if len(done) else 0,
               "outcomes": None, "images_resampled": False}
        if len(done):
            cell = cell_outcomes(done, images, bits.get((str(family), int(budget))))
            ev = accuracy_evidence(cell)
            low, high = t_interval(ev, CONFIDENCE)
            row.update(mean=float(ev.mean), std=float(np.std(cell.correct / images, ddof=1)) if cell.n > 1 else math.nan,
                       # An accuracy lies in [0, 1]: a t interval near 1.000 can reach past it.
                       ci_low=max(0.0, float(low)), ci_high=min(1.0, float(high)),
                       params=float(done["params"].astype(float).median()),
                       outcomes=cell, images_resampled=ev.images_resampled)
        rows.append(row)
    return ordered(pd.DataFrame(rows, columns=SUMMARY_COLUMNS), families)


def with_comparisons(summary: pd.DataFrame, comparisons: pd.DataFrame) -> pd.DataFrame:
    """``summary`` with each cell's comparison with the reference (difference, interval,
    p-values, verdict; NaN for the reference itself and cells not compared)."""
    compared = {(r["family"], int(r["budget"])): r for r in comparisons.to_dict("records")}
    out = summary.copy()
    for column, key in COMPARISON_COLUMNS.items():
        out[column] = [compared.get((f, int(b)), {}).get(key, math.nan) for f, b in zip(out["family"], out["budget"])]
    return out


SUMMARY_COLUMNS = ["family", "budget", "status", "reason", "n", "mean", "std", "ci_low", "ci_high", "params",
                   "not_converged", "outcomes", "images_resampled"]
#: Summary column → comparisons column (NaN for the reference and cells not compared).
COMPARISON_COLUMNS = {"diff_vs_reference": "diff", "diff_ci_low": "ci_low", "diff_ci_high": "ci_high",
                      "p_value": "p", "p_holm": "p_holm", "verdict": "verdict"}


def cells_of(summary: pd.DataFrame) -> Dict[Tuple[str, int], Outcomes]:
    """(family, budget) → outcomes, for the cells of a summary with a completed seed."""
    return {(r.family, int(r.budget)): r.outcomes for r in summary.itertuples(index=False) if r.outcomes is not None}


def ordered(table: pd.DataFrame, families: Sequence[str]) -> pd.DataFrame:
    """``table`` sorted by the families' order, then budget."""
    if table.empty:
        return table
    rank = {f: i for i, f in enumerate(families)}
    return (table.assign(_o=table["family"].map(lambda f: rank.get(f, len(rank))), _b=table["budget"].astype(float))
            .sort_values(["_o", "_b"]).drop(columns=["_o", "_b"]).reset_index(drop=True))


def tuning_effort(trials: pd.DataFrame, families: Sequence[str]) -> pd.DataFrame:
    """Trials per family × budget by status, and the best validation accuracy reached."""
    rows = []
    for (family, budget), group in trials.groupby(["family", "budget"], sort=False):
        status = group["status"].astype(str)
        val = group.loc[status == "completed", "val_accuracy"].astype(float)
        rows.append({"family": str(family), "budget": budget, "trials": len(group),
                     "completed": int((status == "completed").sum()), "failed": int((status == "failed").sum()),
                     "infeasible": int((status == "infeasible").sum()),
                     "best_val_accuracy": float(val.max()) if len(val) else math.nan,
                     "wall_s": float(group["wall_s"].astype(float).sum(skipna=True))})
    return ordered(pd.DataFrame(rows), families)
