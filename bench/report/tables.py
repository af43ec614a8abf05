"""The report's tables, computed from stored results: accuracy with uncertainty, the
comparison with conv, tuning effort (the Pareto front is :mod:`bench.report.pareto`)."""

from __future__ import annotations

import math
from typing import Dict, List, Sequence

import pandas as pd

from bench.report.formatting import text_or_empty
from bench.report.stats import paired, summarize
from bench.stats import REFERENCE



def family_order(run: dict, *tables: pd.DataFrame) -> List[str]:
    """Families in the run's configured order, then any others the tables hold (sorted)."""
    configured = [str(f) for f in (run.get("config", {}) or {}).get("families", []) or []]
    seen = set(configured)
    extra = sorted({str(f) for t in tables for f in t.get("family", pd.Series(dtype=str)).dropna()} - seen)
    return configured + extra


def _by_seed(done: pd.DataFrame, column: str = "test_accuracy") -> Dict[str, float]:
    return {str(seed): float(value) for seed, value in zip(done["seed"], done[column])}


def accuracy_summary(final: pd.DataFrame, families: Sequence[str], reference: str = REFERENCE) -> pd.DataFrame:
    """One row per family × budget: status, n, mean, std, 95 % CI, params, seeds that had
    not converged, and the paired difference from ``reference`` at the same budget (mean over
    common seeds, its 95 % CI and the paired t-test p-value).

    Cells without a completed seed keep their status (infeasible / failed) and reason,
    with NaN statistics. Rows are ordered by ``families`` then budget.
    """
    rows = []
    for (family, budget), group in final.groupby(["family", "budget"], sort=False):
        done = group[group["status"] == "completed"]
        row = {"family": str(family), "budget": budget, "status": "completed" if len(done) else
               str(group["status"].iloc[0]), "reason": "" if len(done) else text_or_empty(group["reason"].iloc[0]),
               "n": len(done), "mean": math.nan, "std": math.nan, "ci_low": math.nan, "ci_high": math.nan,
               "params": math.nan, "not_converged": int((~done["converged"].astype(bool)).sum()) if "converged" in done else 0,
               "accuracies": done["test_accuracy"].astype(float).tolist(), "by_seed": _by_seed(done)}
        if len(done):
            stats = summarize(row["accuracies"])
            row.update({k: stats[k] for k in ("mean", "std", "ci_low", "ci_high")})
            row["params"] = float(done["params"].astype(float).median())
        rows.append(row)
    table = pd.DataFrame(rows, columns=["family", "budget", "status", "reason", "n", "mean", "std", "ci_low",
                                        "ci_high", "params", "not_converged", "accuracies", "by_seed"])
    base = {b: seeds for f, b, seeds in zip(table["family"], table["budget"], table["by_seed"]) if f == reference}
    compared = [paired(seeds, base[budget]) if family != reference and seeds and base.get(budget) else {}
                for family, budget, seeds in zip(table["family"], table["budget"], table["by_seed"])]
    for key, column in (("diff", "diff_vs_reference"), ("ci_low", "diff_ci_low"), ("ci_high", "diff_ci_high"),
                        ("p_value", "p_value")):
        table[column] = [c.get(key, math.nan) for c in compared]
    return ordered(table, families)


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
