"""summary.md of a study (:class:`bench.study.summary.StudySummary`): the runs, known answers,
verdicts, Δ against conv and the aggregate, with its method and caveats."""

from __future__ import annotations

import math
from typing import Dict, List

import numpy as np

from bench.compare.markdown import verdict_grid_markdown
from bench.report.formatting import fmt_budget, fmt_p, interval_pts, markdown_table, pts
from bench.report.summary_csv import DELTA, DELTA_HIGH, DELTA_LOW
from bench.report.style import ordered_families
from bench.stats import REFERENCE
from bench.study import aggregate as agg
from bench.study.view import backbone_view


def render(summary, figures: Dict[str, object]) -> str:
    """The whole summary.md text."""
    runs = summary.runs
    lines = ["# wsbench study", "", "Built from the stored runs " + ", ".join(f"`{r.label}`" for r in runs)
             + " alone.", "", "## The runs", "", runs_markdown(summary), ""]
    lines += [f"- **{r.dataset}**: {backbone_view(_shape(r), _config(r).get('depth', 2))}." for r in runs] + [""]
    if summary.known_answers:
        lines += ["## Known answers", ""]
        for v in summary.known_answers:
            lines += [f"### {v.dataset} ({v.rule}): {'FOUND' if v.passed else 'NOT FOUND'}", ""]
            lines += [f"- {check}" for check in v.checks] + [""]
    lines += [f"## Verdicts against {REFERENCE}", "",
              f"Per dataset, budget and family: the verdict of the run's own rules (better / worse: the paired "
              f"difference from {REFERENCE} is significant after Holm's correction over the run's comparisons; "
              f"equivalent: it lies within ±the run's margin; else inconclusive), with Δ test accuracy in percentage "
              f"points and its 95 % interval. Also in verdicts.csv.", "", verdict_grid_markdown(summary.verdicts), ""]
    lines += [f"## Δ test accuracy against {REFERENCE}", "", f"![Δ test accuracy against {REFERENCE}](summary.png)",
              "",
              delta_markdown(summary), ""]
    if summary.aggregate is not None:
        lines += aggregate_markdown(summary, "ranks.png" in figures)
    elif any(summary.rules):
        lines += ["Datasets built to have a known answer are shown side by side, never aggregated into one number.", ""]
    return "\n".join(lines)


def _config(run) -> dict:
    return run.data.meta.get("config") or {}


def _shape(run) -> List[int]:
    return list((run.data.meta.get("dataset") or {}).get("input_shape") or [0, 0])


def runs_markdown(summary) -> str:
    rows = []
    for r in summary.runs:
        meta, config = r.data.meta, _config(r)
        seeds = r.table.loc[r.table["status"] == "completed", "seeds"]
        shape = _shape(r)
        rows.append([r.dataset, f"`{r.label}`", f"{shape[0]}×{shape[1]}", str((meta.get("dataset") or {})
                     .get("num_classes", "?")), f"{r.data.images:,} ({100 / r.data.images:.2g} points each)",
                     str(config.get("depth", "?")), ", ".join(fmt_budget(b) for b in r.budgets),
                     _steps((meta.get("protocol") or {}).get("steps", config.get("steps"))),
                     "—" if seeds.empty else (f"{seeds.min()}" if seeds.min() == seeds.max()
                                              else f"{seeds.min()}–{seeds.max()}")])
    return markdown_table(rows, ["dataset", "run", "images", "classes", "test images", "depth", "budgets", "steps",
                                 "seeds per cell"], "lllrrrlrr")


def delta_markdown(summary) -> str:
    rows = []
    for r in summary.verdicts.to_dict("records"):
        if not r["verdict"] or not math.isfinite(r[DELTA]):
            continue
        rows.append([r["dataset"], r["family"], fmt_budget(r["budget"]), str(r["seeds"]), f"{r['mean']:.3f}",
                     pts(r[DELTA]), interval_pts(r[DELTA_LOW], r[DELTA_HIGH]), fmt_p(r["p_holm"]),
                     r["verdict"]])
    return markdown_table(rows, ["dataset", "family", "budget", "seeds", "test accuracy", f"Δ vs {REFERENCE} (points)",
                                 "95 % CI", "p Holm", "verdict"], "lllrrrrrl")


def aggregate_markdown(summary, drew_ranks: bool) -> List[str]:
    pooled = summary.pooled
    apart = [r.dataset for r, rule in zip(summary.runs, summary.rules) if rule]
    table = summary.aggregate
    n = int(table["seeds_per_task"].max()) if len(table) else 0
    tasks = sum(len(r.budgets) for r in pooled)
    lines = ["## Aggregate over datasets and budgets", "",
             f"Over {tasks} tasks (dataset × budget) of {', '.join(r.dataset for r in pooled)}"
             + (f"; {', '.join(apart)} (built to have a known answer) are shown above, never aggregated" if apart
                else "") + ".", "",
             f"**Method** (Agarwal et al., NeurIPS 2021, the method of the `rliable` library, computed here with numpy "
             f"and scipy): *P(beats {REFERENCE})* is, for each task, the chance that a seed of the family scores above "
             f"a seed of {REFERENCE} (ties count half), averaged over the tasks where both have a model; *IQM Δ* is "
             f"the interquartile mean (the mean of the middle 50 %) of every paired difference, family seed s − "
             f"{REFERENCE} seed s, pooled over those tasks. 95 % intervals: stratified bootstrap "
             f"({agg.REPLICATES:,} replicates, percentile), seeds resampled within each task. Every task contributes "
             f"its first {n} seeds (the fewest any cell has), so each weighs the same.", "",
             markdown_table([aggregate_row(r) for r in table.to_dict("records")],
                            ["family", "tasks", f"P(beats {REFERENCE}) [95 % CI]", "IQM Δ (points) [95 % CI]",
                             "mean Δ (points)"], "lrrrr"), ""]
    lines += ranks_markdown(summary.ranks, drew_ranks)
    lines += ["**Caveats**", "",
              "- The tasks are few and not a sample of tasks: the intervals resample seeds within these tasks only, so "
              "they say how sure the numbers are for *these* datasets and budgets, not for a new kind of task. "
              f"\"P(beats {REFERENCE}) on a new task\" means a task drawn from these.",
              "- The budgets of one dataset are not independent tasks: the same images, nested models. A dataset "
              "with more budgets weighs more.",
              "- Δ in points weighs datasets by their scale and resolution (one test image is "
              + ", ".join(f"{100 / r.data.images:.2g} points on {r.dataset}" for r in pooled)
              + "); accuracies near the ceiling leave little room for a difference.",
              "- A family without a model at a task (infeasible at the budget) is aggregated over the tasks it has "
              "(the *tasks* column) and left out of the ranks.",
              "- The Friedman and Nemenyi tests over this few tasks detect only large differences in rank; no "
              "difference there is no evidence of equal performance. The per-dataset verdicts above are the "
              "run's own tests, with error rates held per run.", ""]
    return lines


def aggregate_row(r: dict) -> List[str]:
    if not r.get("tasks"):
        return [r["family"], "0", "—", "—", "—"]
    return [r["family"], str(r["tasks"]), f"{r['p_improvement']:.2f} [{r['p_improvement_low']:.2f}, "
            f"{r['p_improvement_high']:.2f}]",
            f"{pts(r['iqm_delta'])} {interval_pts(r['iqm_delta_low'], r['iqm_delta_high'])}",
            pts(r["mean_delta"])]


def ranks_markdown(ranks, drew: bool) -> List[str]:
    if ranks is None:
        return ["**Average ranks**: not computed (they need at least 2 tasks and 3 families with a model at every "
                "task).", ""]
    families = ordered_families(ranks.average.index)
    lines = ["**Average ranks** (Demšar, JMLR 2006): each task ranks the families by their mean test accuracy over "
             f"all their seeds (1 = best, ties share the average rank). Friedman test over {ranks.tasks} tasks and "
             f"{len(families)} families: χ² = {ranks.chi2:.2f}, p = {fmt_p(ranks.p)} (Iman–Davenport F = "
             f"{_num(ranks.f)}, p = {fmt_p(ranks.p_f)}). "
             f"Nemenyi post-hoc test: two families differ at α = {ranks.alpha:g} when their average ranks differ by "
             f"more than the critical difference CD = {ranks.cd:.2f}.", "",
             markdown_table([[f, f"{ranks.average[f]:.2f}"] + [f"{v:g}" for v in ranks.ranks[f]] for f in families],
                            ["family", "average rank"] + list(ranks.ranks.index), "l" + "r" * (1 + ranks.tasks)), ""]
    if ranks.left_out:
        lines += ["Not ranked: " + "; ".join(f"{f} ({why})" for f, why in ranks.left_out.items()) + ".", ""]
    if drew:
        lines += ["![Critical-difference diagram of the average ranks](ranks.png)", ""]
    return lines


def _steps(steps) -> str:
    return f"{steps:,}" if isinstance(steps, int) else str(steps or "?")


def _num(value: float) -> str:
    return "—" if not np.isfinite(value) else f"{value:.2f}"

