"""The report's check sections as Markdown: convergence, tuned against the plain recipe,
search-space edges, tuning effort and noise; and the plain-language answer on top."""

from __future__ import annotations

import math
from typing import List

import pandas as pd

from bench.report import checks
from bench.report.formatting import fmt_budget, fmt_float, fmt_p, markdown_table, points
from bench.stats import REFERENCE


def baseline_markdown(comparison: pd.DataFrame) -> str:
    rows = []
    for r in comparison.itertuples(index=False):
        if r.baseline_status != "completed":
            rows.append([r.family, fmt_budget(r.budget), fmt_float(r.tuned), f"**{r.baseline_status}**", "—", "—", ""])
            continue
        flag = "**below the recipe: protocol defect**" if r.defect else ""
        rows.append([r.family, fmt_budget(r.budget), fmt_float(r.tuned), fmt_float(r.baseline),
                     fmt_float(r.diff, signed=True), fmt_p(r.p_value), flag])
    return markdown_table(rows, ["family", "budget", "tuned", "plain recipe", "tuned − recipe", "paired p", ""],
                          "lrrrrrl")


def noise_markdown(noise: pd.DataFrame, edges: pd.DataFrame) -> str:
    at_edge = {(r.family, r.budget): r.at_edge for r in edges.itertuples(index=False)}
    rows = []
    for r in noise.itertuples(index=False):
        if r.cell_infeasible:
            rows.append([r.family, fmt_budget(r.budget), "infeasible", "—", "—", "—", "—", "—", ""])
            continue
        study = "—" if math.isnan(r.study_median) else f"{r.study_median:.3f} ({r.study_low:.3f}–{r.study_high:.3f})"
        rows.append([r.family, fmt_budget(r.budget), str(r.completed), str(r.redraws), str(r.trials_not_converged),
                     "yes" if r.recipe_best else "no", study, fmt_float(r.seed_std),
                     at_edge.get((r.family, r.budget), "") or ""])
    return markdown_table(rows, ["family", "budget", "trials run", "family redraws", "trials not converged",
                                 "recipe best", "best val acc., bootstrap median (5–95 %)", "seed std of test acc.",
                                 "best trial at a range edge"], "lrrrrlrrl")


def answer_markdown(data, comparison: pd.DataFrame) -> List[str]:
    """Plain statements, each read off the tables below."""
    summary, protocol = data.summary, data.meta.get("protocol") or {}
    done = summary[summary["status"] == "completed"]
    stuck = checks.not_converged(summary, data.baseline_summary)
    lines = [f"- **Training.** Every model: {protocol.get('steps', '?')} optimizer steps, "
             f"{protocol.get('schedule', 'the run' + chr(39) + 's schedule')}, best validation checkpoint. "
             + (f"All {len(done)} tuned cells converged in every seed." if not stuck["final"] else
                f"**Not converged** (validation still improving in the last fifth): {', '.join(stuck['final'])}.")]
    if not data.baseline_summary.empty:
        defects = checks.defects(comparison)
        lines.append("- **Tuning never lost to the plain recipe** by more than "
                     f"{points(checks.DEFECT)}." if not defects else
                     f"- **Protocol defect**: tuned below the plain recipe by more than {points(checks.DEFECT)} at "
                     f"{', '.join(defects)}.")
    for budget in sorted(done["budget"].unique()):
        cell = done[(done["budget"] == budget) & (done["family"] != REFERENCE)]
        better = [f"{r.family} ({r.diff_vs_reference:+.3f})" for r in cell.itertuples(index=False)
                  if r.p_value < 0.05 and r.diff_vs_reference > 0]
        worse = [f"{r.family} ({r.diff_vs_reference:+.3f})" for r in cell.itertuples(index=False)
                 if r.p_value < 0.05 and r.diff_vs_reference < 0]
        same = [r.family for r in cell.itertuples(index=False) if not (r.p_value < 0.05)]
        lines.append(f"- **{fmt_budget(budget)} parameters**, against `{REFERENCE}` (paired over seeds, p < 0.05): "
                     f"better: {', '.join(better) or 'none'}; worse: {', '.join(worse) or 'none'}; "
                     f"no significant difference: {', '.join(same) or 'none'}.")
    return lines
