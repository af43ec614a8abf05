"""Figure: test accuracy against training throughput, with the Pareto frontier."""

from __future__ import annotations

import math

from matplotlib.lines import Line2D

from bench.report.figures import Drawn, register_figure
from bench.report.formatting import fmt_budget
from bench.report.style import BUDGET_MARKERS, accuracy_limits, infeasible_note, new_figure, speed_axis
from bench.report.tables import pareto_front


@register_figure("fig2_accuracy_vs_throughput")
def accuracy_vs_throughput(data):
    """Test accuracy against training throughput, Pareto frontier marked."""
    summary, throughput, styles = data.summary, data.throughput, data.styles
    if throughput.empty:  # the run skipped the throughput stage
        return []
    fig = new_figure(7.5, 4.8)
    ax = fig.add_subplot(1, 1, 1)
    done = summary[summary["status"] == "completed"].assign(_b=lambda t: t["budget"].astype(float))
    speeds = throughput[["family", "budget", "train_img_s"]].assign(_b=lambda t: t["budget"].astype(float))
    merged = done.merge(speeds.drop(columns="budget"), on=["family", "_b"])
    budgets = sorted(summary["budget"].unique(), key=float)
    budget_marker = {float(b): BUDGET_MARKERS[i % len(BUDGET_MARKERS)] for i, b in enumerate(budgets)}
    for r in merged.itertuples(index=False):
        color, _ = styles[r.family]
        yerr = None if math.isnan(r.ci_low) else [[r.mean - r.ci_low], [r.ci_high - r.mean]]
        ax.errorbar([r.train_img_s], [r.mean], yerr=yerr, color=color, marker=budget_marker[float(r.budget)], ms=8,
                    capsize=3, lw=1.2, ls="none", zorder=3)
    if len(merged):
        front = merged[pareto_front(merged["train_img_s"], merged["mean"])].sort_values("train_img_s")
        ax.plot(front["train_img_s"], front["mean"], color="0.2", ls="--", lw=1.2, zorder=2, drawstyle="steps-pre")
        ax.scatter(front["train_img_s"], front["mean"], s=260, facecolors="none", edgecolors="0.2", lw=1.2, zorder=4)
    log = speed_axis(ax, merged["train_img_s"])
    accuracy_limits(ax, merged)
    ax.set_xlabel(f"training throughput (images / s, median over repeats{', log scale' if log else ''})")
    ax.set_ylabel("test accuracy (fraction correct)")
    ax.set_title("Test accuracy against training throughput\nringed points and dashed line: Pareto frontier")
    ax.grid(True, color="0.92")
    handles = [Line2D([], [], color=styles[f][0], marker="o", ls="none", label=f)
               for f in dict.fromkeys(merged["family"])]
    handles += [Line2D([], [], color="0.4", marker=budget_marker[float(b)], ls="none",
                       label=f"budget {fmt_budget(b)}") for b in budgets]
    handles.append(Line2D([], [], color="0.2", ls="--", marker="o", mfc="none", ms=10, label="Pareto frontier"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    infeasible_note(fig, summary)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return [Drawn("fig2_accuracy_vs_throughput", fig, "test accuracy against training throughput; the Pareto "
                  "frontier is ringed.")]
