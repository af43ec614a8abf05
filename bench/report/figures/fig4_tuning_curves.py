"""Figure: every tuning trial's validation accuracy and loss, per family and budget."""

from __future__ import annotations

import math

from bench.report import style
from bench.report.figures import Drawn, register_figure
from bench.report.formatting import fmt_budget

#: The rows of the figure: (trials.csv column, axis label).
METRICS = (("val_accuracy", "validation accuracy\n(best checkpoint)"),
           ("val_loss", "validation loss\n(best checkpoint, log scale)"))


def trial_number(value) -> str:
    """A trial id as trials.csv and final.csv hold it ('1', 1 or 1.0) → '1'."""
    try:
        return str(int(float(value)))
    except (TypeError, ValueError):
        return str(value)


def picked_trials(final) -> set:
    """(family, budget, trial id) of the trial each cell's search picked (final.csv's ``trial``)."""
    done = final[final["status"] == "completed"]
    return {(str(r.family), int(r.budget), trial_number(r.trial)) for r in done.itertuples(index=False)}


@register_figure("fig4_tuning_curves")
def tuning_curves(data):
    """Every tuning trial's validation accuracy and loss, per family and budget; trial 0 is
    the plain recipe, the ringed trial the one the search picked."""
    from matplotlib.lines import Line2D

    trials, styles = data.trials, data.styles
    budgets = data.budgets
    families = style.ordered_families(trials["family"])
    picked = picked_trials(data.final)
    width = max(6.0, 1.0 + 0.5 * len(families)) * len(budgets) / 1.6
    fig = style.new_figure(min(max(width, 7.0), 16.0) + 1.8, 5.6)
    grid = [[fig.add_subplot(len(METRICS), len(budgets), m * len(budgets) + j + 1) for j in range(len(budgets))]
            for m in range(len(METRICS))]
    for m, (column, label) in enumerate(METRICS):
        drawn = []
        for j, budget in enumerate(budgets):
            ax = grid[m][j]
            cell_trials = trials[trials["budget"].astype(int) == int(budget)]
            for i, family in enumerate(families):
                rows = cell_trials[cell_trials["family"] == family].sort_values("trial_index")
                color, marker = styles[family]
                gid = style.family_gid(family)
                for k, r in enumerate(rows.itertuples(index=False)):
                    x = i + style.dodge(k, len(rows), 0.6)
                    value = float(getattr(r, column)) if r.status == "completed" else math.nan
                    if not math.isfinite(value):
                        ax.plot([x], [0.03], marker="x", color=color, ms=5, ls="none", gid=gid,
                                transform=ax.get_xaxis_transform(), clip_on=False)
                        continue
                    recipe = trial_number(r.trial_id) == "0"
                    ax.plot([x], [value], marker=marker, color=color, mfc="none" if recipe else color, ms=6,
                            mew=1.3, ls="none", zorder=3, gid=gid)
                    if (family, int(budget), trial_number(r.trial_id)) in picked:
                        ax.plot([x], [value], marker="o", color="0.1", mfc="none", ms=12, mew=1.0, ls="none",
                                zorder=4)
                    drawn.append(value)
            ax.set_xticks(range(len(families)), families if m == len(METRICS) - 1 else [""] * len(families),
                          rotation=35, ha="right", fontsize=8)
            ax.set_xlim(-0.5, len(families) - 0.5)
            for i in range(1, len(families)):
                ax.axvline(i - 0.5, color="0.9", lw=0.7, zorder=0)
            ax.grid(True, axis="y", color="0.92")
            if m == 0:
                ax.set_title(f"budget {fmt_budget(budget)} params", fontsize=10)
            if j == 0:
                ax.set_ylabel(label, fontsize=9)
        for j in range(1, len(budgets)):
            grid[m][j].sharey(grid[m][0])
        if column == "val_accuracy":
            style.value_limits(grid[m][0], drawn)
        else:  # losses span decades between the worst trial and the saturated ones
            grid[m][0].set_yscale("log")
            style.value_limits(grid[m][0], drawn, ceiling=math.inf, log=True)
    handles = [Line2D([], [], color=styles[f][0], marker=styles[f][1], ls="none", ms=6, label=f) for f in families]
    handles += [Line2D([], [], color="0.4", marker="o", mfc="none", ls="none", ms=6, label="trial 0: the plain recipe"),
                Line2D([], [], color="0.4", marker="o", ls="none", ms=6, label="trials 1, 2, …: tuner draws"),
                Line2D([], [], color="0.1", marker="o", mfc="none", ls="none", ms=12, label="picked by the search"),
                Line2D([], [], color="0.3", marker="x", ls="none", label="infeasible / failed trial")]
    grid[0][-1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    fig.suptitle("Tuning: every trial of every search, left to right in trial order (same tuner and trial count "
                 "for every family);\nthe loss still tells trials apart where validation accuracy saturates",
                 fontsize=10)
    fig.tight_layout()
    return [Drawn("fig4_tuning_curves", fig, "every tuning trial's validation accuracy and loss, trials left to right "
                  "in order within each family (open: trial 0, the plain recipe; ringed: the trial the search "
                  "picked).")]
