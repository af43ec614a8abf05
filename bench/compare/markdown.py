"""A comparison as Markdown: what differs between the runs, then on one dataset the cells'
agreement and the families' rank correlation, across datasets the verdicts per dataset."""

from __future__ import annotations

import math
from typing import List

import pandas as pd

from bench.report.formatting import fmt_budget, fmt_p, interval_pts, markdown_table, pts
from bench.report.summary_csv import DELTA, DELTA_HIGH, DELTA_LOW
from bench.stats import REFERENCE


def render(comparison) -> str:
    """The whole Markdown text of a :class:`bench.compare.tables.Comparison`."""
    runs = comparison.runs
    lines = ["# wsbench compare", "", "Built from the stored runs alone (each read as its report reads it).", "",
             markdown_table([[f"`{r.label}`", f"`{r.path}`", r.dataset, str(len(r.families)),
                              ", ".join(fmt_budget(b) for b in r.budgets)] for r in runs],
                            ["run", "directory", "dataset", "families", "budgets"], "lllrl"), ""]
    lines += ["## What differs between the runs", ""]
    if comparison.settings.empty:
        lines += ["Nothing recorded in run.json (settings, hardware, library versions) differs.", ""]
    else:
        lines += [markdown_table(comparison.settings.astype(str).values.tolist(),
                                 ["setting"] + [f"`{label}`" for label in comparison.labels]), ""]
    for dataset, agreement in comparison.agreement.groupby("dataset", sort=False):
        lines += agreement_markdown(dataset, agreement, comparison)
    if not comparison.same_dataset:
        lines += ["## Verdicts against the reference per dataset", "",
                  f"Each family's verdict against `{REFERENCE}` at each budget, by the run's own rules (Holm over the "
                  f"run's comparisons), with Δ test accuracy in percentage points.", "",
                  verdict_grid_markdown(comparison.verdicts), ""]
    return "\n".join(lines)


def agreement_markdown(dataset: str, agreement: pd.DataFrame, comparison) -> List[str]:
    """## <dataset>: the per-cell table and the rank correlations of the runs on it."""
    labels = [c[: -len(": mean")] for c in agreement.columns if c.endswith(": mean")]
    rows = []
    for r in agreement.to_dict("records"):
        cells = []
        for label in labels:
            mean, low, high = r[f"{label}: mean"], r[f"{label}: ci_low"], r[f"{label}: ci_high"]
            cells += ["—" if not math.isfinite(mean) else f"{mean:.3f} [{low:.3f}, {high:.3f}]",
                      r[f"{label}: verdict"] or "—"]
        overlap = {True: "yes", False: "**no**", None: "—"}[r["intervals_overlap"]]
        rows.append([r["family"], fmt_budget(r["budget"])] + cells + [overlap, "**changed**" if r["verdict_changed"]
                                                                      else ""])
    header = ["family", "budget"]
    for label in labels:
        header += [f"`{label}` mean [95 % CI]", f"`{label}` verdict"]
    overlapping = int((agreement["intervals_overlap"] == True).sum())  # noqa: E712 (None: no interval)
    judged = int(agreement["intervals_overlap"].notna().sum())
    changed = agreement[agreement["verdict_changed"]]
    lines = [f"## {dataset}: {len(labels)} runs cell by cell", "",
             f"{overlapping} of {judged} cells' 95 % intervals of the mean test accuracy overlap (one accuracy lies in "
             f"every run's interval); {len(changed)} verdict{'s' if len(changed) != 1 else ''} against `{REFERENCE}` "
             f"changed" + (": " + "; ".join(f"{c['family']} @ {fmt_budget(c['budget'])} ("
                                            + " → ".join(c[f'{label}: verdict'] or '—' for label in labels) + ")"
                                            for c in changed.to_dict("records")) if len(changed) else "") + ".", "",
             markdown_table(rows, header + ["intervals overlap", "verdict changed"],
                            "lr" + "rl" * len(labels) + "ll"), ""]
    ranks = comparison.ranks[comparison.ranks["dataset"] == dataset]
    lines += [f"### {dataset}: rank correlation of the families per budget", "",
              "Spearman's ρ between two runs' orders of the families by mean test accuracy at each budget (1: the "
              "same order); families within a point of each other can swap places by chance.", "",
              markdown_table([[fmt_budget(r["budget"]), f"`{r['run_a']}` vs `{r['run_b']}`", str(r["families"]),
                               "—" if math.isnan(r["spearman_rho"]) else f"{r['spearman_rho']:.2f}", fmt_p(r["p"])]
                              for r in ranks.to_dict("records")],
                             ["budget", "runs", "families", "Spearman ρ", "p"], "llrrr"), ""]
    return lines


def verdict_grid_markdown(verdicts: pd.DataFrame) -> str:
    """Families down, each run's dataset × budget across: the verdict and Δ (points) with its
    95 % interval (a cell without a model: its status)."""
    columns = list(dict.fromkeys(zip(verdicts["run"], verdicts["dataset"], verdicts["budget"])))
    several = len({run for run, _, _ in columns}) > len({dataset for _, dataset, _ in columns})
    rows = []
    for family in dict.fromkeys(verdicts["family"]):
        row = [family]
        for run, dataset, budget in columns:
            cell = verdicts[(verdicts["run"] == run) & (verdicts["family"] == family) & (verdicts["budget"] == budget)]
            if cell.empty:
                row.append("not run")
                continue
            c = cell.iloc[0]
            delta = "" if not math.isfinite(c[DELTA]) else \
                f" ({pts(c[DELTA])}, {interval_pts(c[DELTA_LOW], c[DELTA_HIGH])})"
            row.append(f"**{c['verdict']}**{delta}" if c["verdict"] else "—")
        rows.append(row)
    header = ["family"] + [f"{dataset} @ {fmt_budget(budget)}" + (f" (`{run}`)" if several else "")
                           for run, dataset, budget in columns]
    return markdown_table(rows, header, "l" * len(header))
