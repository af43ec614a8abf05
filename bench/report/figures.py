"""The report's figures, drawn from stored results with matplotlib's Agg canvas.

Every figure is a plain ``matplotlib.figure.Figure`` (no pyplot, no global backend), so the
report can run inside any process. One colour per family, the same in every figure, from
seaborn's colour-blind-safe palette assigned over the sorted family names (so plugin
families get colours too); families also get their own marker, so colour is never the
only cue.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator

from bench.report.tables import fmt_budget, pareto_front

MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*", "<", ">")
BUDGET_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
DPI = 120
FIG5_DPI = 150  # visualize draws small figures; a finer raster keeps kernel pixels legible


def family_styles(families: Sequence[str]) -> Dict[str, Tuple[tuple, str]]:
    """Family → (RGB colour, marker), fixed by the family's position in the sorted names."""
    names = sorted(set(families))
    colors = sns.color_palette("colorblind", max(len(names), 1))
    return {name: (tuple(colors[i % len(colors)]), MARKERS[i % len(MARKERS)]) for i, name in enumerate(names)}


def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, path: Path) -> Path:
    """Writes ``fig`` as a PNG through the Agg canvas."""
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig).print_png(str(path))
    return path


_thousands = FuncFormatter(lambda v, _: f"{v:,.0f}")


def _yerr(rows: pd.DataFrame) -> np.ndarray:
    low = (rows["mean"] - rows["ci_low"]).fillna(0).to_numpy()
    high = (rows["ci_high"] - rows["mean"]).fillna(0).to_numpy()
    return np.vstack([low, high])


def _accuracy_limits(ax, rows: pd.DataFrame) -> None:
    """Y limits around the means and CIs, kept inside [0, 1] (a t-interval can overshoot)."""
    values = pd.concat([rows["mean"], rows["ci_low"], rows["ci_high"]]).dropna()
    if values.empty:
        return
    low, high = float(values.min()), float(values.max())
    pad = max(0.02, 0.08 * (high - low))
    ax.set_ylim(max(0.0, low - pad), min(1.0, high + pad))


def _speed_axis(ax, speeds: pd.Series) -> bool:
    """Log x axis when the speeds span more than 5×, else linear; thousands separators."""
    speeds = speeds.dropna().astype(float)
    log = len(speeds) > 0 and speeds.min() > 0 and speeds.max() / speeds.min() > 5
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if str(int(v))[0] in "25" else ""))
    ax.xaxis.set_major_formatter(_thousands)
    ax.margins(x=0.1)
    return log


def _infeasible_note(fig: Figure, summary: pd.DataFrame) -> None:
    missing = summary[summary["status"] != "completed"]
    if len(missing):
        cells = ", ".join(f"{r.family} @ {fmt_budget(r.budget)}" for r in missing.itertuples(index=False))
        fig.text(0.01, 0.01, f"No model (infeasible or failed): {cells}", fontsize=7.5, color="0.3", ha="left",
                 va="bottom")


def accuracy_vs_params(summary: pd.DataFrame, styles, *, tolerance: Optional[float] = None) -> Figure:
    """Figure 1: test accuracy (mean, 95 % CI over seeds) against actual parameter count."""
    fig = new_figure(7.5, 4.8)
    ax = fig.add_subplot(1, 1, 1)
    done = summary[summary["status"] == "completed"]
    for family, rows in done.groupby("family", sort=False):
        rows = rows.sort_values("params")
        color, marker = styles[family]
        ax.errorbar(rows["params"], rows["mean"], yerr=_yerr(rows), color=color, marker=marker, ms=6, lw=1.8,
                    capsize=4, label=family)
    ax.set_xscale("log")
    budgets = sorted(float(b) for b in summary["budget"].unique())
    ax.set_xticks(budgets, [fmt_budget(b) for b in budgets])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.margins(x=0.08)
    _accuracy_limits(ax, done)
    ax.set_xlabel("trainable parameters (actual count, log scale; ticks at the budgets)")
    ax.set_ylabel("test accuracy (fraction correct)")
    band = f" (budgets ±{tolerance:.0%})" if tolerance else ""
    ax.set_title(f"Test accuracy against parameter count{band}\nmean over seeds, bars = 95 % CI (t)")
    ax.grid(True, axis="y", color="0.92")
    ax.legend(title="family", loc="best", fontsize=8, title_fontsize=8)
    _infeasible_note(fig, summary)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def accuracy_vs_throughput(summary: pd.DataFrame, throughput: pd.DataFrame, styles) -> Figure:
    """Figure 2: test accuracy against training throughput, Pareto frontier marked."""
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
    log = _speed_axis(ax, merged["train_img_s"])
    _accuracy_limits(ax, merged)
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
    _infeasible_note(fig, summary)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def throughput_bars(throughput: pd.DataFrame, families: Sequence[str], styles,
                    missing: Sequence[Tuple[str, object]] = ()) -> Figure:
    """Figure 3: training and inference images/s and batch-1 latency, by budget and family.

    ``missing`` (family, budget) cells without a model are marked 'no model' in their slot.
    """
    panels = [("train_img_s", "training (images / s)"), ("infer_img_s", "inference (images / s)"),
              ("latency_ms_b1", "latency at batch 1 (ms)")]
    fig = new_figure(11, 4.2)
    missing = {(str(f), float(b)) for f, b in missing}
    budgets = sorted(set(throughput["budget"].astype(float)) | {b for _, b in missing})
    present = [f for f in families if f in set(throughput["family"]) | {f for f, _ in missing}]
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
                                fontsize=7, color=styles[family][0], transform=ax.get_xaxis_transform())
                    continue
                r = row.iloc[0]
                xs.append(j - 0.4 + width * (i + 0.5))
                ys.append(r[column])
                lo.append(r[column] - r[f"{column}_min"])
                hi.append(r[f"{column}_max"] - r[column])
            ax.bar(xs, ys, width=width * 0.95, color=styles[family][0], label=family,
                   yerr=[lo, hi], capsize=2, error_kw={"lw": 0.8, "ecolor": "0.25"})
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
    fig.suptitle(f"Throughput by family and budget: median of {repeats} repeats (error bars min–max), "
                 f"batch {batch}, {device}", fontsize=10)
    fig.axes[-1].legend(title="family", fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                        frameon=False)
    fig.tight_layout()
    return fig


def tuning_curves(curves: pd.DataFrame, families: Sequence[str], budgets: Sequence, styles) -> Figure:
    """Figure 4: best-so-far validation accuracy against trial index, one panel per budget."""
    budgets = sorted(budgets, key=float)
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
    return fig


def sisws_figures(model_file: Path, family: str, budget, n_positions: int = 4) -> List[Tuple[str, Figure]]:
    """Figure 5 for one saved model: (kind, figure) pairs for its first SISWS layer.

    ``bench.visualize`` and Keras are imported here, lazily, so the rest of the report
    neither needs nor waits for TensorFlow.

    Returns:
        [('similarity', centroid/similarity map), ('kernels', locally weighted kernel grid)].

    Raises:
        ValueError: the model holds no SISWS layer.
    """
    import keras

    import layers  # noqa: F401  (registers the custom layers for loading)
    from bench import visualize
    from layers.sisws import SISWS2D

    model = keras.saving.load_model(model_file, compile=False)
    sisws = [layer for layer in model.layers if isinstance(layer, SISWS2D)]
    if not sisws:
        raise ValueError(f"{str(model_file)!r} ({family} @ {fmt_budget(budget)}) holds no SISWS2D layer.")
    layer = sisws[0]
    label = f"{family} @ budget {fmt_budget(budget)}, first block"
    similarity = visualize.similarity_figure(layer)
    ax = similarity.axes[0]
    ax.set_title(f"{label}\n{ax.get_title()}", fontsize=9)
    similarity.tight_layout()
    coded = layer.n_kcp <= visualize.MAX_CENTROID_COLORS
    kernels = visualize.kernel_grid_figure(layer, n_positions=n_positions, color_coding=coded)
    title = kernels.get_suptitle() if hasattr(kernels, "get_suptitle") else ""
    kernels.suptitle(f"{label}\n{title}" if title else label, fontsize=9)
    if kernels.get_layout_engine() is None:  # a layout engine makes room for the title by itself
        kernels.subplots_adjust(top=1.0 - 0.7 / kernels.get_figheight())
    for fig in (similarity, kernels):
        fig.set_dpi(FIG5_DPI)
    return [("similarity", similarity), ("kernels", kernels)]
