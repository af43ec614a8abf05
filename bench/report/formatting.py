"""Numbers and tables for people: budgets, counts, p-values and GitHub Markdown tables."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence


if TYPE_CHECKING:  # pragma: no cover - figure modules import this while `wsbench figures` lists them
    import pandas as pd

def text_or_empty(value) -> str:
    """``value`` as text; None and NaN as ''."""
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
    """A budget for people: 30,000."""
    return f"{int(budget):,}"


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


def points(fraction: float) -> str:
    """An accuracy difference for people: 0.02 → '2 percentage points'."""
    value = 100 * float(fraction)
    return f"{value:.0f} percentage points" if abs(value - round(value)) < 1e-9 else f"{value:.1f} percentage points"


def pts(fraction, signed: bool = True) -> str:
    """An accuracy (difference) as a number of percentage points: '+1.4' (signed) or '1.4'."""
    if fraction is None or not math.isfinite(float(fraction)):
        return "—"
    return f"{100 * float(fraction):+.1f}" if signed else f"{100 * float(fraction):.1f}"


def span(low: str, high: str) -> str:
    """A range of two formatted values, '3–10', or the one value when both read the same."""
    return low if low == high else f"{low}–{high}"


def interval_pts(low, high) -> str:
    """An interval of accuracy differences in percentage points: '[-1.2, +0.4]'."""
    return "—" if not (math.isfinite(float(low)) and math.isfinite(float(high))) else f"[{pts(low)}, {pts(high)}]"


def fmt_spread(median, low, high, digits: int = 0) -> str:
    """'median (low–high)' with thousands separators."""
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (median, low, high)):
        return "—"
    return f"{median:,.{digits}f} ({low:,.{digits}f}–{high:,.{digits}f})"


#: Marks in the accuracy grids.
NOT_CONVERGED, BELOW_BASELINE = "†", "▼"


def accuracy_pivot_markdown(summary: pd.DataFrame, defects=()) -> str:
    """Family × budget grid of 'mean ± std' (or the cell's status); † marks a cell with a seed
    that had not converged, ▼ a cell in ``defects`` ('family @ budget': below its baseline)."""
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
                continue
            if r.status != "completed":
                row.append(f"**{r.status}**")
                continue
            text = f"{r.mean:.3f} (n=1)" if r.n < 2 else f"{r.mean:.3f} ± {r.std:.3f}"
            text += f" {NOT_CONVERGED}" if r.not_converged else ""
            text += f" {BELOW_BASELINE}" if f"{family} @ {int(budget):,}" in defects else ""
            row.append(text)
        rows.append(row)
    return markdown_table(rows, ["family"] + [f"{fmt_budget(b)} params" for b in budgets], "l" + "r" * len(budgets))


def accuracy_detail_markdown(summary: pd.DataFrame) -> str:
    """One line per family × budget: actual params, seeds, mean ± std and the 95 % interval."""
    rows = []
    for r in summary.itertuples(index=False):
        if r.status != "completed":
            rows.append([r.family, fmt_budget(r.budget), "—", "0", f"**{r.status}**: {r.reason}", "—", "—"])
            continue
        ci = "—" if math.isnan(r.ci_low) else f"[{r.ci_low:.3f}, {r.ci_high:.3f}]"
        spread = f"{r.mean:.3f} ± {r.std:.3f}" if r.n >= 2 else f"{r.mean:.3f}"
        correct = r.outcomes.correct
        rows.append([r.family, fmt_budget(r.budget), fmt_int(r.params), str(r.n), spread, ci,
                     f"{span(str(int(correct.min())), str(int(correct.max())))} of {r.outcomes.images:,}"])
    return markdown_table(rows, ["family", "budget", "actual params", "seeds", "test accuracy (mean ± std)", "95 % CI",
                                 "correct test images per seed"], "lrrrrrr")


def throughput_markdown(throughput: pd.DataFrame, families: Sequence[str]) -> str:
    """Median (min–max over rounds) of train / inference images/s and batch-1 latency, and
    the step memory where the run measured it (a run made before it has none: the peak RSS
    it recorded measured the process, not the model, and is not shown)."""
    rank = {f: i for i, f in enumerate(families)}
    table = throughput.assign(_o=throughput["family"].map(lambda f: rank.get(f, len(rank))),
                              _b=throughput["budget"].astype(float)).sort_values(["_o", "_b"])
    memory = "step_mem_mb" in table and table["step_mem_mb"].astype(float).notna().any()
    rows = [[r.family, fmt_budget(r.budget), fmt_int(r.params), fmt_int(r.macs_per_image),
             fmt_spread(r.train_img_s, r.train_img_s_min, r.train_img_s_max),
             fmt_spread(r.infer_img_s, r.infer_img_s_min, r.infer_img_s_max),
             fmt_spread(r.latency_ms_b1, r.latency_ms_b1_min, r.latency_ms_b1_max, digits=2)]
            + ([fmt_float(float(r.step_mem_mb), digits=1)] if memory else []) for r in table.itertuples(index=False)]
    header = ["family", "budget", "params", "MACs / image", "train img/s", "inference img/s", "latency batch 1 (ms)"]
    return markdown_table(rows, header + (["step memory (MiB)"] if memory else []), "lrrrrrr" + ("r" if memory else ""))
