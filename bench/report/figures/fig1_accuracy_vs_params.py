"""Figure: test accuracy of every family at each parameter budget, side by side."""

from __future__ import annotations

from bench.report import style
from bench.report.figures import Drawn, register_figure
from bench.report.formatting import fmt_budget


def _budget_label(budget, params) -> str:
    """'3,000' over the range of the actual counts drawn at that budget."""
    params = [p for p in params if p == p]
    if not params:
        return fmt_budget(budget)
    low, high = int(min(params)), int(max(params))
    return f"{fmt_budget(budget)}\n({low:,}–{high:,})" if low != high else f"{fmt_budget(budget)}\n({low:,})"


@register_figure("fig1_accuracy_vs_params")
def accuracy_vs_params(data):
    """Test accuracy of every family at each parameter budget: mean and 95 % CI over seeds,
    families side by side, the untuned plain recipe beside."""
    from matplotlib.lines import Line2D

    summary, styles = data.summary, data.styles
    done = summary[summary["status"] == "completed"]
    recipe = data.baseline_summary
    recipe = recipe[recipe["status"] == "completed"] if len(recipe) else recipe
    budgets = sorted({float(b) for b in summary["budget"]})
    slot = {b: j for j, b in enumerate(budgets)}
    families = [f for f in style.ordered_families(summary["family"]) if f in set(done["family"])]
    fig = style.new_figure(max(7.5, 1.2 + 0.55 * len(families) * len(budgets)), 5.0)
    ax = fig.add_subplot(1, 1, 1)
    drawn = []  # every value a mark or bar end sits at: the y limits come from these alone
    for i, family in enumerate(families):
        color, marker = styles[family]
        gid, offset = style.family_gid(family), style.dodge(i, len(families))
        rows = done[done["family"] == family].sort_values("budget")
        xs = [slot[float(b)] + offset for b in rows["budget"]]
        low = (rows["mean"] - rows["ci_low"]).where(rows["ci_low"].notna(), 0).to_numpy()
        high = (rows["ci_high"] - rows["mean"]).where(rows["ci_high"].notna(), 0).to_numpy()
        bars = ax.errorbar(xs, rows["mean"], yerr=[low, high], color=color, marker=marker, ms=6.5, ls="none",
                           elinewidth=1.4, capsize=3, zorder=3, label=family)
        for artist in bars.get_children():
            artist.set_gid(gid)
        drawn += list(rows["mean"]) + list(rows["ci_low"].dropna()) + list(rows["ci_high"].dropna())
        base = recipe[recipe["family"] == family] if len(recipe) else recipe
        for r in base.itertuples(index=False):
            ax.plot([slot[float(r.budget)] + offset], [r.mean], color=color, marker=marker, ms=10, mfc="none",
                    mew=1.2, ls="none", alpha=0.9, zorder=2, gid=gid)
            drawn.append(r.mean)
    style.value_limits(ax, drawn)
    for j in range(1, len(budgets)):
        ax.axvline(j - 0.5, color="0.85", lw=0.8, zorder=0)
    ax.set_xticks(range(len(budgets)), [_budget_label(b, done[done["budget"].astype(float) == b]["params"])
                                        for b in budgets])
    ax.set_xlim(-0.5, len(budgets) - 0.5)
    band = f", each model within ±{data.tolerance:.0%}" if data.tolerance else ""
    ax.set_xlabel(f"parameter budget (actual trainable parameters of the tuned models{band})")
    ax.set_ylabel("test accuracy (fraction correct)")
    ax.set_title("Test accuracy at each parameter budget\nmean over seeds, bars = 95 % CI (t); "
                 "families side by side in registry order", fontsize=10)
    ax.grid(True, axis="y", color="0.92")
    handles = [Line2D([], [], color=styles[f][0], marker=styles[f][1], ls="none", ms=6.5, label=f) for f in families]
    if len(recipe):
        handles.append(Line2D([], [], color="0.35", marker="o", mfc="none", ms=10, ls="none",
                              label="open: plain recipe\n(untuned, mean)"))
    ax.legend(handles=handles, title="family", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              title_fontsize=8, frameon=False)
    style.infeasible_note(fig, summary)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    caption = ("test accuracy of every family at each budget (mean and 95 % CI over seeds, families side by side)"
               + ("; open markers: the untuned plain recipe's mean." if len(recipe) else "."))
    return [Drawn("fig1_accuracy_vs_params", fig, caption)]

