"""The figures of a study's summary, in the families' colours and markers of every report
(:mod:`bench.report.style`): Δ test accuracy against conv per family, one panel per dataset
(the figure for a paper), and the critical-difference diagram of the families' average ranks."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from bench.report.formatting import fmt_budget
from bench.report.summary_csv import DELTA, DELTA_HIGH, DELTA_LOW
from bench.report.style import dodge, family_gid, family_styles, new_figure, ordered_families
from bench.stats import REFERENCE


def panel_title(run, rule: str) -> str:
    """A dataset panel's title: its name, then its known answer or what its backbone sees."""
    meta = run.data.meta
    shape = (meta.get("dataset") or {}).get("input_shape") or ["?", "?"]
    depth = (meta.get("config") or {}).get("depth", "?")
    detail = f"known answer: {rule}" if rule else f"{shape[0]}×{shape[1]} images, backbone depth {depth}"
    return f"{run.dataset}\n{detail}"


def delta_figure(runs: Sequence, rules: Sequence[str] = ()):
    """One panel per dataset: each family's paired Δ test accuracy against conv (mean and
    95 % CI over seeds, and test images where the run kept them) at each budget of the
    dataset, families side by side in registry order; a cell without a model is left empty.

    Args:
        runs: stored runs (:class:`bench.compare.runs.StoredRun`), one per panel.
        rules: each run's known answer ('' for none), for the panel titles.
    """
    from matplotlib.lines import Line2D

    rules = list(rules) or [""] * len(runs)
    fig = new_figure(4.2 * len(runs) + 2.2, 4.6)
    families = [f for f in ordered_families({f for r in runs for f in r.table["family"]}) if f != REFERENCE]
    styles = family_styles(families)
    axes = []
    for k, (run, rule) in enumerate(zip(runs, rules)):
        ax = fig.add_subplot(1, len(runs), k + 1)
        axes.append(ax)
        ax.axhline(0, color="0.4", lw=1)
        budgets = run.budgets
        table = run.table[run.table["status"] == "completed"].set_index(["family", "budget"])
        for i, family in enumerate(families):
            color, marker = styles[family]
            for j, budget in enumerate(budgets):
                if (family, budget) not in table.index or not np.isfinite(table.loc[(family, budget), DELTA]):
                    continue
                r = table.loc[(family, budget)]
                low = r[DELTA] - (r[DELTA_LOW] if np.isfinite(r[DELTA_LOW]) else r[DELTA])
                high = (r[DELTA_HIGH] if np.isfinite(r[DELTA_HIGH]) else r[DELTA]) - r[DELTA]
                bars = ax.errorbar([j + dodge(i, len(families))], [100 * r[DELTA]], yerr=[[100 * low], [100 * high]],
                                   color=color, marker=marker, ms=6, capsize=3, ls="none")
                for artist in bars.get_children():
                    artist.set_gid(family_gid(family))
        for j in range(1, len(budgets)):
            ax.axvline(j - 0.5, color="0.88", lw=0.8, zorder=0)
        ax.set_xticks(range(len(budgets)), [fmt_budget(b) for b in budgets])
        ax.set_xlim(-0.5, len(budgets) - 0.5)
        ax.set_xlabel("parameter budget")
        if k == 0:
            ax.set_ylabel(f"test accuracy − {REFERENCE} (percentage points)")
        ax.set_title(panel_title(run, rule), fontsize=9)
        ax.grid(True, axis="y", color="0.92")
    handles = [Line2D([], [], color=styles[f][0], marker=styles[f][1], ls="none", ms=6, label=f) for f in families]
    axes[-1].legend(handles=handles, title="family", fontsize=8, title_fontsize=8, loc="upper left",
                    bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.suptitle(f"Δ test accuracy against {REFERENCE}, paired by seed: mean and 95 % CI; families side by side at "
                 f"each budget; an empty slot has no model (infeasible)", fontsize=10)
    fig.tight_layout()
    return fig


def rank_figure(ranks):
    """The critical-difference diagram (Demšar 2006) of :class:`bench.study.ranks.Ranks`:
    average ranks on the axis (1 = best), families the Nemenyi test cannot tell apart at its
    level joined by a bar, the critical difference drawn above
    (:func:`scikit_posthocs.critical_difference_diagram`), each family in its colour and marker."""
    import scikit_posthocs as sp
    from matplotlib.markers import MarkerStyle

    families = list(ranks.average.index)
    styles = family_styles(families)
    fig = new_figure(8.0, 2.2 + 0.3 * len(families))
    ax = fig.add_subplot(1, 1, 1)
    drawn = sp.critical_difference_diagram(ranks.average, ranks.nemenyi, ax=ax, alpha=ranks.alpha, cd=ranks.cd,
                                           color_palette={f: styles[f][0] for f in families},
                                           marker_props={"s": 36, "edgecolor": "none"},
                                           label_fmt_left="{label} ({rank:.2f})",
                                           label_fmt_right="({rank:.2f}) {label}")
    for elbow, marker, label in zip(drawn["elbows"], drawn["markers"], drawn["labels"]):
        text = label.get_text()  # '<family> (<rank>)' left of the axis, '(<rank>) <family>' right of it
        family = text.split(") ", 1)[1] if text.startswith("(") else text.rsplit(" (", 1)[0]
        shape = MarkerStyle(styles[family][1])
        marker.set_paths([shape.get_path().transformed(shape.get_transform())])
        for artist in (elbow, marker, label):
            artist.set_gid(family_gid(family))
    k = len(families)
    ax.set_xlim(1, k)
    ax.set_xticks(range(1, k + 1))
    fig.suptitle(f"Average rank of the families over {ranks.tasks} tasks (dataset × budget; 1 = best); Friedman p = "
                 f"{_p(ranks.p)}\na bar joins families the Nemenyi test cannot tell apart at α = {ranks.alpha:g}; "
                 f"CD = {ranks.cd:.2f}, the critical difference", fontsize=9)
    fig.subplots_adjust(left=0.24, right=0.76, top=0.72, bottom=0.04)
    return fig


def _p(p: float) -> str:
    return "n/a" if not np.isfinite(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")
