"""The report's tables, computed from stored results: accuracy with uncertainty, the
comparison with conv, tuning effort, the Pareto frontier, and Markdown rendering."""

from __future__ import annotations

import math
from typing import Iterable, List, Sequence

import numpy as np
import pandas as pd

from bench.report.stats import summarize, welch

BASELINE = "conv"


def family_order(run: dict, *tables: pd.DataFrame) -> List[str]:
    """Families in the run's configured order, then any others the tables hold (sorted)."""
    configured = [str(f) for f in (run.get("config", {}) or {}).get("families", []) or []]
    seen = set(configured)
    extra = sorted({str(f) for t in tables for f in t.get("family", pd.Series(dtype=str)).dropna()} - seen)
    return configured + extra


def accuracy_summary(final: pd.DataFrame, families: Sequence[str], baseline: str = BASELINE) -> pd.DataFrame:
    """One row per family × budget: status, n, mean, std, 95 % CI, params, and the
    difference from ``baseline`` at the same budget with Welch's p-value.

    Cells without a completed seed keep their status (infeasible / failed) and reason,
    with NaN statistics. Rows are ordered by ``families`` then budget.
    """
    rows = []
    for (family, budget), group in final.groupby(["family", "budget"], sort=False):
        done = group[group["status"] == "completed"]
        row = {"family": str(family), "budget": budget, "status": "completed" if len(done) else
               str(group["status"].iloc[0]), "reason": "" if len(done) else _text(group["reason"].iloc[0]),
               "n": len(done), "mean": math.nan, "std": math.nan, "ci_low": math.nan, "ci_high": math.nan,
               "params": math.nan, "accuracies": done["test_accuracy"].astype(float).tolist()}
        if len(done):
            stats = summarize(row["accuracies"])
            row.update({k: stats[k] for k in ("mean", "std", "ci_low", "ci_high")})
            row["params"] = float(done["params"].astype(float).median())
        rows.append(row)
    table = pd.DataFrame(rows, columns=["family", "budget", "status", "reason", "n", "mean", "std", "ci_low",
                                        "ci_high", "params", "accuracies"])
    base = {b: accs for f, b, accs in zip(table["family"], table["budget"], table["accuracies"]) if f == baseline}
    diffs, pvalues = [], []
    for family, budget, accs in zip(table["family"], table["budget"], table["accuracies"]):
        if family == baseline or not accs or not base.get(budget):
            diffs.append(math.nan), pvalues.append(math.nan)
            continue
        result = welch(accs, base[budget])
        diffs.append(result["diff"]), pvalues.append(result["p_value"])
    table["diff_vs_baseline"], table["p_value"] = diffs, pvalues
    rank = {f: i for i, f in enumerate(families)}
    table["_order"] = table["family"].map(lambda f: rank.get(f, len(rank)))
    table["_budget"] = table["budget"].astype(float)
    return table.sort_values(["_order", "_budget"]).drop(columns=["_order", "_budget"]).reset_index(drop=True)


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
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    rank = {f: i for i, f in enumerate(families)}
    return (table.assign(_o=table["family"].map(lambda f: rank.get(f, len(rank))), _b=table["budget"].astype(float))
            .sort_values(["_o", "_b"]).drop(columns=["_o", "_b"]).reset_index(drop=True))


def best_so_far(trials: pd.DataFrame) -> pd.DataFrame:
    """Per family × budget, the best validation accuracy after each trial (NaN until the
    first completed trial), ordered by trial_index."""
    out = []
    for _, group in trials.groupby(["family", "budget"], sort=False):
        group = group.sort_values("trial_index").copy()
        val = group["val_accuracy"].astype(float).where(group["status"] == "completed")
        group["best_so_far"] = val.cummax().ffill()  # an infeasible trial keeps the best so far
        out.append(group)
    return pd.concat(out, ignore_index=True) if out else trials.assign(best_so_far=[])


def pareto_front(x: Iterable[float], y: Iterable[float]) -> np.ndarray:
    """Boolean mask of the points no other point beats on both axes (higher is better on both).

    A point is dominated when another is at least as good on x and y and better on one.
    """
    xs, ys = np.asarray(list(x), dtype=float), np.asarray(list(y), dtype=float)
    keep = np.ones(len(xs), dtype=bool)
    for i in range(len(xs)):
        better_or_equal = (xs >= xs[i]) & (ys >= ys[i])
        strictly = (xs > xs[i]) | (ys > ys[i])
        keep[i] = not np.any(better_or_equal & strictly)
    return keep


# -- Markdown --------------------------------------------------------------------------------------
def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def markdown_table(rows: Sequence[Sequence[str]], header: Sequence[str], align: str = "") -> str:
    """A GitHub Markdown table; ``align`` holds one of 'l', 'r', 'c' per column (default left)."""
    align = align or "l" * len(header)
    rule = {"l": ":---", "r": "---:", "c": ":---:"}
    esc = lambda cell: str(cell).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "| " + " | ".join(rule[a] for a in align) + " |"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt_budget(budget) -> str:
    """A budget for people: thousands separators, no '.0' (file names use ``budget_label``)."""
    value = float(budget)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,}"


def fmt_int(value) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{int(round(float(value))):,}"


def fmt_float(value, digits: int = 3, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):+.{digits}f}" if signed else f"{float(value):.{digits}f}"


def fmt_p(p) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def fmt_spread(median, low, high, digits: int = 0) -> str:
    """'median (low–high)' with thousands separators."""
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (median, low, high)):
        return "—"
    return f"{median:,.{digits}f} ({low:,.{digits}f}–{high:,.{digits}f})"


def accuracy_pivot_markdown(summary: pd.DataFrame) -> str:
    """Family × budget grid of 'mean ± std' (or the cell's status)."""
    budgets = sorted(summary["budget"].unique(), key=float)
    families = list(dict.fromkeys(summary["family"]))
    cells = {(r.family, r.budget): r for r in summary.itertuples(index=False)}
    rows = []
    for family in families:
        row = [family]
        for budget in budgets:
            r = cells.get((family, budget))
            if r is None:
                row.append("not run")
            elif r.status != "completed":
                row.append(f"**{r.status}**")
            elif r.n < 2:
                row.append(f"{r.mean:.3f} (n=1)")
            else:
                row.append(f"{r.mean:.3f} ± {r.std:.3f}")
        rows.append(row)
    return markdown_table(rows, ["family"] + [f"{fmt_budget(b)} params" for b in budgets], "l" + "r" * len(budgets))


def accuracy_detail_markdown(summary: pd.DataFrame, baseline: str = BASELINE) -> str:
    """One line per family × budget: params, n, mean ± std, 95 % CI, Δ vs baseline, Welch p."""
    rows = []
    for r in summary.itertuples(index=False):
        if r.status != "completed":
            rows.append([r.family, fmt_budget(r.budget), "—", "0", f"**{r.status}**: {r.reason}", "—", "—", "—"])
            continue
        ci = "—" if math.isnan(r.ci_low) else f"[{r.ci_low:.3f}, {r.ci_high:.3f}]"
        spread = f"{r.mean:.3f} ± {r.std:.3f}" if r.n >= 2 else f"{r.mean:.3f}"
        if r.family == baseline:
            diff, p = "(baseline)", "—"
        else:
            diff, p = fmt_float(r.diff_vs_baseline, signed=True), fmt_p(r.p_value)
        rows.append([r.family, fmt_budget(r.budget), fmt_int(r.params), str(r.n), spread, ci, diff, p])
    return markdown_table(rows, ["family", "budget", "actual params", "n", "test accuracy (mean ± std)",
                                 "95 % CI", f"Δ vs {baseline}", "Welch p"], "lrrrrrrr")


def throughput_markdown(throughput: pd.DataFrame, families: Sequence[str]) -> str:
    """Median (min–max over repeats) of train / inference images/s and batch-1 latency."""
    rank = {f: i for i, f in enumerate(families)}
    table = throughput.assign(_o=throughput["family"].map(lambda f: rank.get(f, len(rank))),
                              _b=throughput["budget"].astype(float)).sort_values(["_o", "_b"])
    rows = [[r.family, fmt_budget(r.budget), fmt_int(r.params), fmt_int(r.macs_per_image),
             fmt_spread(r.train_img_s, r.train_img_s_min, r.train_img_s_max),
             fmt_spread(r.infer_img_s, r.infer_img_s_min, r.infer_img_s_max),
             fmt_spread(r.latency_ms_b1, r.latency_ms_b1_min, r.latency_ms_b1_max, digits=2),
             fmt_int(r.peak_rss_mb)] for r in table.itertuples(index=False)]
    return markdown_table(rows, ["family", "budget", "params", "MACs / image", "train img/s", "inference img/s",
                                 "latency batch 1 (ms)", "peak RSS (MB)"], "lrrrrrrr")


def effort_markdown(effort: pd.DataFrame) -> str:
    rows = [[r.family, fmt_budget(r.budget), str(r.trials), str(r.completed), str(r.failed), str(r.infeasible),
             fmt_float(r.best_val_accuracy), fmt_float(r.wall_s, 1)] for r in effort.itertuples(index=False)]
    return markdown_table(rows, ["family", "budget", "trials", "completed", "failed", "infeasible",
                                 "best val accuracy", "tuning time (s)"], "lrrrrrrr")
