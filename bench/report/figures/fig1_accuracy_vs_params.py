"""Figure: test accuracy against actual parameter count, mean and 95 % CI over seeds."""

from __future__ import annotations

import pandas as pd
from matplotlib.ticker import NullLocator

from bench.report.figures import Drawn, register_figure
from bench.report.formatting import fmt_budget
from bench.report.style import accuracy_limits, ci_yerr, infeasible_note, new_figure


@register_figure("fig1_accuracy_vs_params")
def accuracy_vs_params(data):
    """Test accuracy (mean, 95 % CI over seeds) against actual parameter count."""
    summary, styles, tolerance = data.summary, data.styles, data.tolerance
    fig = new_figure(7.5, 4.8)
    ax = fig.add_subplot(1, 1, 1)
    done = summary[summary["status"] == "completed"]
    for family, rows in done.groupby("family", sort=False):
        rows = rows.sort_values("params")
        color, marker = styles[family]
        ax.errorbar(rows["params"], rows["mean"], yerr=ci_yerr(rows), color=color, marker=marker, ms=6, lw=1.8,
                    capsize=4, label=family)
    recipe = data.baseline_summary
    recipe = recipe[recipe["status"] == "completed"] if len(recipe) else recipe
    for family, rows in (recipe.groupby("family", sort=False) if len(recipe) else ()):
        rows = rows.sort_values("params")
        color, marker = styles[family]
        ax.plot(rows["params"], rows["mean"], color=color, marker=marker, ms=6, mfc="none", lw=1, ls="--", alpha=0.8)
    if len(recipe):
        ax.plot([], [], color="0.4", marker="o", mfc="none", ls="--", label="plain recipe (dashed, open)")
    ax.set_xscale("log")
    budgets = sorted(float(b) for b in summary["budget"].unique())
    ax.set_xticks(budgets, [fmt_budget(b) for b in budgets])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.margins(x=0.08)
    accuracy_limits(ax, done if not len(recipe) else pd.concat([done, recipe]))
    ax.set_xlabel("trainable parameters (actual count, log scale; ticks at the budgets)")
    ax.set_ylabel("test accuracy (fraction correct)")
    band = f" (budgets ±{tolerance:.0%})" if tolerance else ""
    ax.set_title(f"Test accuracy against parameter count{band}\nmean over seeds, bars = 95 % CI (t)")
    ax.grid(True, axis="y", color="0.92")
    ax.legend(title="family", loc="best", fontsize=8, title_fontsize=8)
    infeasible_note(fig, summary)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return [Drawn("fig1_accuracy_vs_params", fig, "test accuracy against actual parameter count (mean and 95 % CI over "
                  "seeds, log x); dashed with open markers: the untuned plain recipe.")]
