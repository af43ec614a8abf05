"""Figure: tuning curves, best-so-far validation accuracy against trial index."""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from bench.report.figures import Drawn, register_figure
from bench.report.formatting import fmt_budget
from bench.report.style import new_figure
from bench.report.tables import best_so_far


@register_figure("fig4_tuning_curves")
def tuning_curves(data):
    """Best-so-far validation accuracy against trial index, one panel per budget."""
    curves, families, budgets, styles = best_so_far(data.trials), data.families, data.budgets, data.styles
    fig = new_figure(max(4.0 * len(budgets), 6.0) + 1.4, 4.0)
    axes = [fig.add_subplot(1, len(budgets), j + 1) for j in range(len(budgets))]
    for ax in axes[1:]:
        ax.sharey(axes[0])
    last = int(curves["trial_index"].max()) if len(curves) else 1
    shown = [f for f in families if f in set(curves["family"])]
    for ax, budget in zip(axes, budgets):
        cell = curves[curves["budget"].astype(float) == float(budget)]
        for k, family in enumerate(shown):
            rows = cell[cell["family"] == family].sort_values("trial_index")
            if rows.empty:
                continue
            color, marker = styles[family]
            # One extra point past the last trial so a step at the last trial is visible.
            xs = list(rows["trial_index"]) + [last + 0.4]
            ys = list(rows["best_so_far"]) + [rows["best_so_far"].iloc[-1]]
            ax.plot(xs, ys, color=color, lw=2, drawstyle="steps-post", label=family)
            done = rows[rows["status"] == "completed"]
            ax.scatter(done["trial_index"], done["val_accuracy"].astype(float), color=color, marker=marker, s=28,
                       alpha=0.6, zorder=3)
            bad = rows[rows["status"] != "completed"]
            dodge = 0.08 * (k - (len(shown) - 1) / 2)
            ax.scatter(bad["trial_index"] + dodge, np.full(len(bad), 0.02), marker="x", color=color, s=30,
                       transform=ax.get_xaxis_transform(), clip_on=False, zorder=3)
        ax.set_title(f"budget {fmt_budget(budget)} params", fontsize=10)
        ax.set_xlabel("trial index")
        ax.set_xlim(0.6, last + 0.4)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, color="0.92")
    axes[0].set_ylabel("best-so-far validation accuracy")
    handles = [Line2D([], [], color=styles[f][0], marker=styles[f][1], label=f) for f in shown]
    handles += [Line2D([], [], color="0.5", marker="o", ls="none", alpha=0.6, label="one trial's val accuracy"),
                Line2D([], [], color="0.5", lw=2, label="best so far"),
                Line2D([], [], color="0.3", marker="x", ls="none", label="infeasible / failed trial")]
    axes[-1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    fig.suptitle("Tuning curves: same tuner and trial count for every family", fontsize=10)
    fig.tight_layout()
    return [Drawn("fig4_tuning_curves", fig, "tuning curves, best-so-far validation accuracy against trial index.")]
