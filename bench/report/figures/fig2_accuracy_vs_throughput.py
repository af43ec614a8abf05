"""Figure: test accuracy against training throughput, with the Pareto front the data resolve."""

from __future__ import annotations

from bench.report import style
from bench.report.figures import Drawn, NotDrawn, register_figure
from bench.report.formatting import fmt_budget

NO_THROUGHPUT = "The run skipped the throughput stage (`wsbench throughput RUN` measures it)."


def front_table(data):
    """One row per completed cell with a throughput row: family, budget, correct, images,
    accuracy (correct / images), CI, train_img_s (median, min, max), and ``front`` (see
    :mod:`bench.report.pareto`).

    Raises:
        NotDrawn: the run has no throughput rows, or run.json lacks the test split's size.
    """
    from bench.report.pareto import correct_counts, pareto_front

    if data.throughput.empty:
        raise NotDrawn(NO_THROUGHPUT)
    test_images = ((data.meta.get("dataset") or {}).get("sizes") or {}).get("test")
    if not test_images:
        raise NotDrawn("run.json does not record the test split's size, which the correct-image counts need.")
    counts = correct_counts(data.final, int(test_images))
    speeds = data.throughput[["family", "budget", "train_img_s", "train_img_s_min", "train_img_s_max"]]
    summary = data.summary[data.summary["status"] == "completed"][["family", "budget", "ci_low", "ci_high"]]
    key = lambda t: t.assign(budget=t["budget"].astype(int))  # noqa: E731 - one key form on every side
    table = key(counts).merge(key(speeds), on=["family", "budget"]).merge(key(summary), on=["family", "budget"])
    table["accuracy"] = table["correct"] / table["images"]
    table["front"] = pareto_front(table["correct"], table["images"], table["train_img_s_min"],
                                  table["train_img_s_max"]) if len(table) else []
    return table


@register_figure("fig2_accuracy_vs_throughput")
def accuracy_vs_throughput(data):
    """Test accuracy against training throughput; ringed, the Pareto front: the cells no other
    cell beats with as many correct test images (whole images) and throughput faster beyond
    its spread."""
    from matplotlib.lines import Line2D

    table, styles = front_table(data), data.styles
    sizes = style.budget_sizes(data.summary["budget"])
    fig = style.new_figure(8.2, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    drawn = []
    for r in table.itertuples(index=False):
        color, marker = styles[r.family]
        yerr = None if r.ci_low != r.ci_low else [[max(r.accuracy - r.ci_low, 0)], [max(r.ci_high - r.accuracy, 0)]]
        bars = ax.errorbar([r.train_img_s], [r.accuracy], yerr=yerr,
                           xerr=[[r.train_img_s - r.train_img_s_min], [r.train_img_s_max - r.train_img_s]],
                           color=color, marker=marker, ms=sizes[float(r.budget)], mec="white", mew=0.6, capsize=2.5,
                           lw=1.0, ls="none", zorder=3)
        for artist in bars.get_children():
            artist.set_gid(style.family_gid(r.family))
        drawn += [r.accuracy] + ([r.ci_low, r.ci_high] if yerr is not None else [])
    front = table[table["front"]].sort_values("train_img_s")
    if len(front):
        ax.scatter(front["train_img_s"], front["accuracy"], s=[(sizes[float(b)] * 1.7) ** 2 for b in front["budget"]],
                   facecolors="none", edgecolors="0.15", lw=1.1, zorder=4)
    log = style.speed_axis(ax, list(table["train_img_s_min"]) + list(table["train_img_s_max"]))
    style.value_limits(ax, drawn)
    rounds = "interleaved rounds" if str(data.throughput["timing"].iloc[0]) == "interleaved" else "repeats"
    ax.set_xlabel(f"training throughput (images / s; median of {rounds}, bars min–max{', log scale' if log else ''})")
    ax.set_ylabel("test accuracy (correct test images / all, over seeds)")
    ax.set_title("Test accuracy against training throughput\nringed: the Pareto front (no other cell has as many "
                 "correct images and a wholly faster range)", fontsize=10)
    ax.grid(True, color="0.92")
    handles = [Line2D([], [], color=styles[f][0], marker=styles[f][1], ls="none", ms=7, label=f)
               for f in style.ordered_families(table["family"])]
    handles += [Line2D([], [], color="0.45", marker="o", ls="none", ms=size, label=f"budget {fmt_budget(b)}")
                for b, size in sizes.items()]
    handles.append(Line2D([], [], color="0.15", ls="none", marker="o", mfc="none", ms=13, label="Pareto front"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
              labelspacing=0.9)
    style.infeasible_note(fig, data.summary)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    caption = ("test accuracy (correct test images over all seeds) against training throughput (median and min–max "
               "over timing rounds); marker size grows with the budget. Ringed: the Pareto front. A cell is off "
               "it only when another has at least as many correct test images (whole images, not float means) and "
               "a throughput range wholly above its own; overlapping ranges decide nothing.")
    return [Drawn("fig2_accuracy_vs_throughput", fig, caption)]
