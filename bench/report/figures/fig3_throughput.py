"""Figure: training and inference throughput and batch-1 latency by family and budget."""

from __future__ import annotations

from bench.report import style
from bench.report.figures import Drawn, NotDrawn, register_figure
from bench.report.figures.fig2_accuracy_vs_throughput import NO_THROUGHPUT
from bench.report.formatting import fmt_budget


@register_figure("fig3_throughput")
def throughput_bars(data):
    """Training and inference images/s and batch-1 latency by family and budget.

    Cells without a model are marked 'no model' in their slot."""
    from matplotlib.ticker import FuncFormatter

    throughput, styles = data.throughput, data.styles
    if throughput.empty:
        raise NotDrawn(NO_THROUGHPUT)
    panels = [("train_img_s", "training (images / s)"), ("infer_img_s", "inference (images / s)"),
              ("latency_ms_b1", "latency at batch 1 (ms)")]
    fig = style.new_figure(11, 4.2)
    missing = {(str(f), float(b)) for f, b in data.missing_models()}
    budgets = sorted(set(throughput["budget"].astype(float)) | {b for _, b in missing})
    present = style.ordered_families(set(throughput["family"]) | {f for f, _ in missing})
    width = 0.8 / max(len(present), 1)
    for p, (column, label) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), p + 1)
        for i, family in enumerate(present):
            rows = throughput[throughput["family"] == family]
            xs, ys, lo, hi = [], [], [], []
            for j, budget in enumerate(budgets):
                row = rows[rows["budget"].astype(float) == float(budget)]
                if row.empty:
                    if (family, float(budget)) in missing:
                        ax.text(j - 0.4 + width * (i + 0.5), 0, " no model", rotation=90, ha="center", va="bottom",
                                fontsize=7, color=styles[family][0], transform=ax.get_xaxis_transform(),
                                gid=style.family_gid(family))
                    continue
                r = row.iloc[0]
                xs.append(j - 0.4 + width * (i + 0.5))
                ys.append(r[column])
                lo.append(r[column] - r[f"{column}_min"])
                hi.append(r[f"{column}_max"] - r[column])
            bars = ax.bar(xs, ys, width=width * 0.95, color=styles[family][0], label=family,
                          yerr=[lo, hi], capsize=2, error_kw={"lw": 0.8, "ecolor": "0.25"})
            for patch in bars.patches:
                patch.set_gid(style.family_gid(family))
        ax.set_xticks(range(len(budgets)), [fmt_budget(b) for b in budgets])
        ax.set_xlabel("parameter budget")
        ax.set_ylabel(label)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 10 else f"{v:g}"))
        ax.set_title(label.split(" (")[0].capitalize() + (" (higher is better)" if p < 2 else " (lower is better)"),
                     fontsize=10)
        ax.grid(True, axis="y", color="0.92")
        ax.set_axisbelow(True)
    batch = int(throughput["batch"].iloc[0]) if len(throughput) else 0
    repeats = int(throughput["repeats"].iloc[0]) if len(throughput) else 0
    device = str(throughput["device"].iloc[0]) if len(throughput) else "?"
    rounds = ("interleaved rounds" if str(throughput["timing"].iloc[0]) == "interleaved"
              else "repeats, one model after another")
    fig.suptitle(f"Throughput of each tuned model by family and budget: median of {repeats} {rounds} "
                 f"(error bars min–max), batch {batch}, {device}", fontsize=10)
    fig.axes[-1].legend(title="family", fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                        frameon=False)
    fig.tight_layout()
    return [Drawn("fig3_throughput", fig, "training and inference throughput and batch-1 latency by family and "
                  "budget.")]
