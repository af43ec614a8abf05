"""The report's sections as Markdown: the plain-language answer on top, the comparisons with
the reference and their verdicts, tuned against the plain recipe, and whether tuning could
rank its trials."""

from __future__ import annotations

import math
from typing import List

import pandas as pd

from bench.report import checks
from bench.report.formatting import fmt_budget, fmt_float, fmt_p, interval_pts, markdown_table, points, pts, span
from bench.stats import REFERENCE
from bench.stats.signflip import smallest_p


def baseline_markdown(comparison: pd.DataFrame) -> str:
    rows = []
    for r in comparison.itertuples(index=False):
        if r.baseline_status != "completed" or not r.n:
            rows.append([r.family, fmt_budget(r.budget), fmt_float(r.tuned), f"**{r.baseline_status}**", "—", "—",
                         "—", "—", ""])
            continue
        flag = "**below the recipe: protocol defect**" if r.defect else ""
        rows.append([r.family, fmt_budget(r.budget), str(r.n), fmt_float(r.tuned), fmt_float(r.baseline),
                     pts(r.diff), interval_pts(r.ci_low, r.ci_high), fmt_p(r.p_value), flag])
    return markdown_table(rows, ["family", "budget", "shared seeds", "tuned", "plain recipe", "tuned − recipe (points)",
                                 "95 % CI", "p", ""], "lrrrrrrrl")


def lead_markdown(lead: pd.DataFrame, edges: pd.DataFrame) -> str:
    at_edge = {(r.family, r.budget): r.at_edge for r in edges.itertuples(index=False)}
    rows = []
    for r in lead.itertuples(index=False):
        if r.cell_infeasible:
            rows.append([r.family, fmt_budget(r.budget), "infeasible"] + ["—"] * 6 + [""])
            continue
        ranked = ("yes" if r.could_rank else "**no**: lead within validation noise") if math.isfinite(r.best_val) else "—"
        lead_text = "recipe best" if r.recipe_best else (f"{int(r.lead_images):+d}" if math.isfinite(r.lead_images)
                                                          else "—")
        rows.append([r.family, fmt_budget(r.budget), str(r.completed), str(r.redraws), str(r.trials_not_converged),
                     fmt_float(r.recipe_val), fmt_float(r.best_val), f"{lead_text} (±{r.resolution_images:.1f})"
                     if math.isfinite(r.resolution_images) else lead_text, ranked,
                     at_edge.get((r.family, r.budget), "") or ""])
    return markdown_table(rows, ["family", "budget", "trials run", "family redraws", "trials not converged",
                                 "recipe val acc.", "best val acc.", "best − recipe, val images (resolution)",
                                 "tuning could rank", "best trial at a range edge"], "lrrrrrrrll")


def comparisons_markdown(data) -> str:
    """One row per comparison with the reference: paired seeds, Δ and its interval, the exact
    and t p-values, Holm's, the verdict, and what the run could see."""
    margin = pts(data.margin, signed=False)
    rows = []
    for r in data.comparisons.itertuples(index=False):
        stopped = {"fixed": "", "cap": "cap reached", "pending": "in progress"}.get(
            r.stopped, f"stopped at {r.n}: {r.chance:.0%} chance of a verdict by {data.cap}")
        needed = "never (test images)" if r.seeds_needed is None or (isinstance(r.seeds_needed, float)
                                                                     and math.isnan(r.seeds_needed)) \
            else str(int(r.seeds_needed))
        rows.append([r.family, fmt_budget(r.budget), str(r.n), pts(r.diff), interval_pts(r.ci_low, r.ci_high),
                     fmt_p(r.p_signflip), fmt_p(r.p_t), fmt_p(r.p_holm), f"**{r.verdict}**",
                     "none" if math.isinf(r.detectable) else pts(r.detectable, signed=False), needed, stopped])
    return markdown_table(rows, ["family", "budget", "paired seeds", f"Δ vs {REFERENCE} (points)", "95 % CI",
                                 "p exact (seeds)", "p t (seeds + images)", "p Holm", "verdict",
                                 "detectable (points)", f"seeds for ±{margin}", "seeds added"], "lrrrrrrrlrrl")


def answer_markdown(data, comparison: pd.DataFrame) -> List[str]:
    """Plain statements in the four verdict words, each read off the tables below."""
    summary, protocol, comparisons = data.summary, data.meta.get("protocol") or {}, data.comparisons
    done = summary[summary["status"] == "completed"]
    stuck = checks.not_converged(summary, data.baseline_summary)
    lines = [f"- **Training.** Every model: {protocol.get('steps', '?')} optimizer steps, "
             f"{protocol.get('schedule', 'the run' + chr(39) + 's schedule')}, best validation checkpoint. "
             + (f"All {len(done)} tuned cells converged in every seed." if not stuck["final"] else
                f"**Not converged** (validation still improving in the last fifth): {', '.join(stuck['final'])}.")]
    if not data.baseline_summary.empty:
        defects = checks.defects(comparison)
        lines.append(f"- **Tuning never lost to the plain recipe** by more than {points(checks.DEFECT)} "
                     f"(paired over the seeds both trained)." if not defects else
                     f"- **Protocol defect**: tuned below the plain recipe by more than {points(checks.DEFECT)} "
                     f"at {', '.join(defects)}.")
    if comparisons.empty:
        return lines + [f"- No comparison with `{REFERENCE}`: it has no model at any budget with another family."]
    m, n_min, n_max = len(comparisons), int(comparisons["n"].min()), int(comparisons["n"].max())
    lines.append(f"- **How the verdicts are given.** Each family against `{REFERENCE}` at the same budget, paired seed "
                 f"by seed on whole test images: *better* or *worse* when \"no difference\" is rejected, *equivalent* "
                 f"when a difference of ±{pts(data.margin, signed=False)} points or more is rejected (two one-sided "
                 f"tests), otherwise *inconclusive*. Each p-value is the larger of an exact sign-flip test over seeds "
                 f"and a t test over seeds and test images; Holm's correction over the run's {m} comparisons holds "
                 f"each kind of false verdict to {data.alpha:.0%}. With {span(str(n_min), str(n_max))} seeds no p-value "
                 f"can go below {span(f'{smallest_p(n_max):.3g}', f'{smallest_p(n_min):.3g}')}; the first Holm step "
                 f"asks for {data.alpha / m:.2g}.")
    if not comparisons["images_resampled"].all():
        lines.append(f"- **Intervals over seeds only.** This run predates per-image results (correct.csv), so its "
                     f"intervals and t tests hold the {data.images:,} test images fixed: they describe this test "
                     f"split, not the dataset.")
    for budget in sorted(comparisons["budget"].unique()):
        cell = comparisons[comparisons["budget"] == budget]
        said = []
        for word in ("better", "worse", "equivalent", "inconclusive"):
            chosen = cell[cell["verdict"] == word]
            names = ", ".join(f"{r.family} ({pts(r.diff)})" for r in chosen.itertuples(index=False))
            said.append(f"{word}: {names or 'none'}")
        seen = cell["detectable"].replace(math.inf, math.nan).dropna()
        needed = [int(v) for v in cell["seeds_needed"] if v is not None and not pd.isna(v)]
        sight = (f"this run could detect {span(pts(seen.min(), False), pts(seen.max(), False))} points (80 % power)"
                 if len(seen) else f"with {int(cell['n'].max())} seeds this run could detect no difference at "
                                   f"the level Holm's correction asks")
        sight += (f"; {span(str(min(needed)), str(max(needed)))} seeds would bring that to ±{pts(data.margin, signed=False)}"
                  if needed else "; no number of seeds would bring that to the margin: too few test images")
        lines.append(f"- **{fmt_budget(budget)} parameters**, against `{REFERENCE}` (Δ in points): {'; '.join(said)}. "
                     f"How far it could see: {sight}.")
    return lines
