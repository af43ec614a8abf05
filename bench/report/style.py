"""The look shared by every figure of the report: one colour and marker per family, the
Agg canvas, axis helpers.

Every figure is a plain ``matplotlib.figure.Figure`` (no pyplot, no global backend), so the
report can run inside any process. One colour per family, the same in every figure, from
seaborn's colour-blind-safe palette assigned over the sorted family names (so plugin
families get colours too); families also get their own marker, so colour is never the
only cue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Sequence, Tuple

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from bench.report.formatting import fmt_budget

MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*", "<", ">")
BUDGET_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
DPI = 120


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


thousands = FuncFormatter(lambda v, _: f"{v:,.0f}")


def ci_yerr(rows: pd.DataFrame) -> np.ndarray:
    low = (rows["mean"] - rows["ci_low"]).fillna(0).to_numpy()
    high = (rows["ci_high"] - rows["mean"]).fillna(0).to_numpy()
    return np.vstack([low, high])


def accuracy_limits(ax, rows: pd.DataFrame) -> None:
    """Y limits around the means and CIs, kept inside [0, 1] (a t-interval can overshoot)."""
    values = pd.concat([rows["mean"], rows["ci_low"], rows["ci_high"]]).dropna()
    if values.empty:
        return
    low, high = float(values.min()), float(values.max())
    pad = max(0.02, 0.08 * (high - low))
    ax.set_ylim(max(0.0, low - pad), min(1.0, high + pad))


def speed_axis(ax, speeds: pd.Series) -> bool:
    """Log x axis when the speeds span more than 5×, else linear; thousands separators."""
    speeds = speeds.dropna().astype(float)
    log = len(speeds) > 0 and speeds.min() > 0 and speeds.max() / speeds.min() > 5
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if str(int(v))[0] in "25" else ""))
    ax.xaxis.set_major_formatter(thousands)
    ax.margins(x=0.1)
    return log


def infeasible_note(fig: Figure, summary: pd.DataFrame) -> None:
    missing = summary[summary["status"] != "completed"]
    if len(missing):
        cells = ", ".join(f"{r.family} @ {fmt_budget(r.budget)}" for r in missing.itertuples(index=False))
        fig.text(0.01, 0.01, f"No model (infeasible or failed): {cells}", fontsize=7.5, color="0.3", ha="left",
                 va="bottom")
