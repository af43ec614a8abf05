"""The summary of a study: Δ test accuracy against conv per family, budget and dataset, with
confidence intervals, and the verdict on each dataset's known answer. Read from the stored
runs alone (like the report); families in registry order, in the colours and markers of the
reports (:mod:`bench.report.style`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np
import pandas as pd
from bench.report.formatting import fmt_budget, fmt_p, markdown_table
from bench.report.style import dodge, family_gid, family_styles, new_figure, ordered_families, save
from bench.store.atomic import write_text_atomic
from bench.stats import REFERENCE
from bench.study.answers import Verdict, evaluate


def load(run_dirs: Sequence[Path]) -> List[Tuple[str, str, pd.DataFrame, pd.DataFrame]]:
    """(dataset, known-answer rule, accuracy summary, comparisons with the reference) of each
    stored run, as its report reads them (:func:`bench.report.data.load`)."""
    from bench.data import resolve_source
    from bench.report.data import load as load_run

    out = []
    for path in run_dirs:
        data = load_run(Path(path))
        dataset = data.meta["config"]["dataset"]
        out.append((dataset, resolve_source(dataset).known_answer or "", data.summary, data.comparisons))
    return out


def delta_figure(runs: List[Tuple[str, str, pd.DataFrame, pd.DataFrame]]):
    """One panel per dataset: each family's paired Δ test accuracy against conv (mean and
    95 % CI over seeds and test images) at each budget, families side by side in registry order, in the
    colours and markers of every report's figures."""
    from matplotlib.lines import Line2D

    fig = new_figure(5.6 * len(runs) + 1.8, 4.4)
    families = [f for f in ordered_families({f for _, _, s, _ in runs for f in s["family"]}) if f != REFERENCE]
    styles = family_styles(families)
    budgets = sorted({int(b) for _, _, s, _ in runs for b in s["budget"]})
    axes = []
    for k, (dataset, rule, summary, _) in enumerate(runs):
        ax = fig.add_subplot(1, len(runs), k + 1, sharey=axes[0] if axes else None)
        axes.append(ax)
        ax.axhline(0, color="0.4", lw=1)
        for i, family in enumerate(families):
            color, marker = styles[family]
            for j, budget in enumerate(budgets):
                row = summary[(summary["family"] == family) & (summary["budget"] == budget)
                              & (summary["status"] == "completed")]
                if row.empty or np.isnan(row["diff_vs_reference"].iloc[0]):
                    continue
                r = row.iloc[0]
                low = r.diff_vs_reference - (r.diff_ci_low if np.isfinite(r.diff_ci_low) else r.diff_vs_reference)
                high = (r.diff_ci_high if np.isfinite(r.diff_ci_high) else r.diff_vs_reference) - r.diff_vs_reference
                bars = ax.errorbar([j + dodge(i, len(families))], [r.diff_vs_reference], yerr=[[low], [high]],
                                   color=color, marker=marker, ms=6, capsize=3, ls="none")
                for artist in bars.get_children():
                    artist.set_gid(family_gid(family))
        for j in range(1, len(budgets)):
            ax.axvline(j - 0.5, color="0.88", lw=0.8, zorder=0)
        ax.set_xticks(range(len(budgets)), [fmt_budget(b) for b in budgets])
        ax.set_xlim(-0.5, len(budgets) - 0.5)
        ax.set_xlabel("parameter budget")
        ax.set_ylabel(f"test accuracy − {REFERENCE} (paired over seeds)")
        ax.set_title(f"{dataset}\nknown answer: {rule or 'none'}", fontsize=9)
        ax.grid(True, axis="y", color="0.92")
    handles = [Line2D([], [], color=styles[f][0], marker=styles[f][1], ls="none", ms=6, label=f) for f in families]
    axes[-1].legend(handles=handles, title="family", fontsize=8, title_fontsize=8, loc="upper left",
                    bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.suptitle(f"Δ test accuracy against {REFERENCE}, mean and 95 % CI over seeds and test images; families side by side at "
                 f"each budget", fontsize=10)
    fig.tight_layout()
    return fig


def write_summary(out_dir: Path, run_dirs: Sequence[Path]) -> List[Verdict]:
    """Writes ``out_dir``/summary.md, summary.png and verdicts.json; returns the verdicts."""
    runs = load(run_dirs)
    verdicts = [evaluate(dataset, rule, comparisons) for dataset, rule, _, comparisons in runs if rule]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    save(delta_figure(runs), out_dir / "summary.png")
    rows = []
    for dataset, _, summary, _ in runs:
        rank = {f: i for i, f in enumerate(ordered_families(summary["family"]))}
        summary = summary.assign(_o=summary["family"].map(rank), _b=summary["budget"].astype(int))
        for r in summary.sort_values(["_o", "_b"]).itertuples(index=False):
            if r.family == REFERENCE or r.status != "completed" or not isinstance(r.verdict, str):
                continue
            ci = "—" if np.isnan(r.diff_ci_low) else f"[{100 * r.diff_ci_low:+.1f}, {100 * r.diff_ci_high:+.1f}]"
            rows.append([dataset, r.family, fmt_budget(r.budget), str(r.n), f"{r.mean:.3f}",
                         f"{100 * r.diff_vs_reference:+.1f}", ci, fmt_p(r.p_holm), r.verdict])
    lines = ["# wsbench study", "", "Built from the stored runs " + ", ".join(f"`{Path(d).name}`" for d in run_dirs)
             + " alone.", "", "## Known answers", ""]
    for v in verdicts:
        lines += [f"### {v.dataset} ({v.rule}): {'FOUND' if v.passed else 'NOT FOUND'}", ""]
        lines += [f"- {check}" for check in v.checks] + [""]
    lines += ["## Δ test accuracy against conv", "", "![Δ test accuracy against conv](summary.png)", "",
              markdown_table(rows, ["dataset", "family", "budget", "seeds", "test accuracy",
                                    f"Δ vs {REFERENCE} (points)", "95 % CI", "p Holm", "verdict"], "lllrrrrrl"), ""]
    write_text_atomic(out_dir / "summary.md", "\n".join(lines))
    write_text_atomic(out_dir / "verdicts.json", json.dumps([v.__dict__ for v in verdicts], indent=2) + "\n")
    return verdicts
