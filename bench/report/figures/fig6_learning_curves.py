"""Figure: learning curves of the final models, validation accuracy and loss against steps."""

from __future__ import annotations

from bench.report import style
from bench.report.figures import Drawn, NotDrawn, register_figure
from bench.report.formatting import fmt_budget

#: The rows of the figure: (curves.csv column, axis label, log scale).
METRICS = (("val_accuracy", "validation accuracy", False), ("val_loss", "validation loss (log scale)", True))
STAGE = "final"


def seed_bands(curves, stage: str = STAGE):
    """Per family, budget and step of ``stage``: the median, lowest and highest of each
    metric over seeds, and how many seeds reached that step (``seeds``)."""
    rows = curves[curves["stage"] == stage].astype({"budget": int, "step": int})
    grouped = rows.groupby(["family", "budget", "step"], sort=True)
    out = grouped[[m for m, _, _ in METRICS]].agg(["median", "min", "max"])
    out.columns = [f"{metric}_{stat}" for metric, stat in out.columns]
    return out.assign(seeds=grouped.size()).reset_index()


@register_figure("fig6_learning_curves")
def learning_curves(data):
    """Learning curves of the final models: validation accuracy and loss against optimizer
    steps per budget, median and range over seeds per family."""
    if not data.has_curves:
        raise NotDrawn("This run has no curves.csv: it was made before wsbench kept every model's validation "
                       "history, so its learning curves cannot be drawn. A run made now keeps them.")
    bands = seed_bands(data.curves)
    if bands.empty:
        raise NotDrawn("curves.csv holds no curve of a final model yet.")
    from matplotlib.lines import Line2D

    budgets = sorted(bands["budget"].unique())
    families = style.ordered_families(bands["family"])
    fig = style.new_figure(3.9 * len(budgets) + 1.9, 5.8)
    grid = [[fig.add_subplot(len(METRICS), len(budgets), m * len(budgets) + j + 1) for j in range(len(budgets))]
            for m in range(len(METRICS))]
    for m, (metric, label, log) in enumerate(METRICS):
        drawn = []
        for j, budget in enumerate(budgets):
            ax = grid[m][j]
            for family in families:
                rows = bands[(bands["family"] == family) & (bands["budget"] == budget)]
                if rows.empty:
                    continue
                color, gid = data.styles[family][0], style.family_gid(family)
                ax.fill_between(rows["step"], rows[f"{metric}_min"], rows[f"{metric}_max"], color=color, alpha=0.18,
                                lw=0, gid=gid)
                ax.plot(rows["step"], rows[f"{metric}_median"], color=color, lw=1.4, gid=gid)
                drawn += list(rows[f"{metric}_min"]) + list(rows[f"{metric}_max"])
            if m == 0:
                ax.set_title(f"budget {fmt_budget(budget)} params", fontsize=10)
            if m == len(METRICS) - 1:
                ax.set_xlabel("optimizer step")
            if j == 0:
                ax.set_ylabel(label, fontsize=9)
            ax.grid(True, color="0.92")
        for j in range(1, len(budgets)):
            grid[m][j].sharey(grid[m][0])
        if log:
            grid[m][0].set_yscale("log")
            style.value_limits(grid[m][0], drawn, ceiling=float("inf"), log=True)
        else:
            style.value_limits(grid[m][0], drawn)
    seeds = int(bands["seeds"].max())
    handles = [Line2D([], [], color=data.styles[f][0], lw=1.6, label=f) for f in families]
    handles.append(Line2D([], [], color="0.5", lw=6, alpha=0.3, label=f"range over seeds\n(up to {seeds})"))
    grid[0][-1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    fig.suptitle("Learning curves of the final models: every validation of every seed, median (line) and range "
                 "(band) over seeds", fontsize=10)
    fig.tight_layout()
    return [Drawn("fig6_learning_curves", fig, "learning curves of the final models: validation accuracy and loss "
                  "against optimizer steps, median (line) and range (band) over seeds, per family and budget.")]
