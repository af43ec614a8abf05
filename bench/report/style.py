"""The look shared by every figure of the report and of a study's summary: one colour and
one marker per family, the Agg canvas, axis helpers.

Every figure is a plain ``matplotlib.figure.Figure`` (no pyplot, no global backend), so the
report can run inside any process. A family's colour and marker are fixed by its name's
place in the family registry (``layers.list_families()``: the built-ins in their order, then
installed plugins); a family a run holds that is not registered here (an uninstalled
plugin) comes after them, in name order. So ``conv`` has the same colour and marker in every
figure of every report and study summary. Colours come from seaborn's colour-blind-safe
'colorblind' palette; markers double them, so colour is never the only cue. A marker always
means a family: budgets are told apart by position, marker size or panel, never by shape.

Importing this module loads no plotting library (listing the report's figures stays fast);
each helper imports what it draws with.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, List, Sequence, Tuple

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

#: seaborn's colour-blind-safe palette: 10 colours; the 11th family reuses the first.
PALETTE, PALETTE_SIZE = "colorblind", 10
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*", "<", ">")
DPI = 120

Style = Tuple[Tuple[float, float, float], str]


def family_slots(families: Iterable[str]) -> List[str]:
    """Every registered family in registry order, then those of ``families`` the registry
    does not know, sorted: a family's index here fixes its colour and marker."""
    import layers

    registered = layers.list_families()
    return registered + sorted(set(families) - set(registered))


def ordered_families(families: Iterable[str]) -> List[str]:
    """``families`` in registry order (see :func:`family_slots`)."""
    wanted = set(families)
    return [f for f in family_slots(wanted) if f in wanted]


def family_styles(families: Iterable[str]) -> Dict[str, Style]:
    """Family → (RGB colour, marker) for each of ``families``, fixed by its registry slot."""
    import seaborn as sns

    colors = sns.color_palette(PALETTE, PALETTE_SIZE)
    wanted = set(families)
    return {name: (tuple(float(v) for v in colors[i % PALETTE_SIZE]), MARKERS[i % len(MARKERS)])
            for i, name in enumerate(family_slots(wanted)) if name in wanted}


def family_gid(family: str) -> str:
    """The ``gid`` of every artist drawn for ``family`` (tests read family colours by it)."""
    return f"family:{family}"


def budget_sizes(budgets: Sequence, smallest: float = 5.0, largest: float = 11.0) -> Dict[float, float]:
    """Budget → marker size (points), growing with the budget: how a figure whose axes are
    taken shows the budget without a marker shape."""
    ordered = sorted({float(b) for b in budgets})
    if len(ordered) == 1:
        return {ordered[0]: (smallest + largest) / 2}
    step = (largest - smallest) / (len(ordered) - 1)
    return {b: smallest + i * step for i, b in enumerate(ordered)}


def dodge(index: int, count: int, width: float = 0.7) -> float:
    """Offset of item ``index`` of ``count`` side by side within a slot ``width`` wide."""
    return 0.0 if count <= 1 else -width / 2 + width * (index + 0.5) / count


def new_figure(width: float, height: float) -> "Figure":
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def save(fig: "Figure", path: Path) -> Path:
    """Writes ``fig`` as a PNG through the Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig).print_png(str(path))
    return path


def thousands():
    """A tick formatter with thousands separators."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{v:,.0f}")


def value_limits(ax, values: Iterable[float], axis: str = "y", floor: float = 0.0, ceiling: float = 1.0,
                 min_pad: float = 0.005, log: bool = False) -> None:
    """Limits around the drawn ``values`` (means and the ends of the bars actually drawn).

    Values are first cut to [floor, ceiling] (a t-interval can overshoot an accuracy of 1),
    then a margin is added on both sides so a mark at the ceiling is not cut in half. With
    ``log`` the margin is a factor (for a log axis)."""
    import math

    values = [min(max(float(v), floor), ceiling) for v in values if v is not None and math.isfinite(float(v))]
    if log:
        values = [v for v in values if v > 0]
    if not values:
        return
    low, high = min(values), max(values)
    if log:
        low, high = low / 1.25, high * 1.25
    else:
        pad = max(min_pad, 0.06 * (high - low))
        low, high = low - pad, high + pad
    (ax.set_ylim if axis == "y" else ax.set_xlim)(low, high)


def speed_axis(ax, speeds: Iterable[float]) -> bool:
    """Log x axis when the speeds span more than 5×, else linear; thousands separators."""
    from matplotlib.ticker import FuncFormatter

    speeds = [float(s) for s in speeds if s == s]
    log = bool(speeds) and min(speeds) > 0 and max(speeds) / min(speeds) > 5
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if str(int(v))[0] in "25" else ""))
    ax.xaxis.set_major_formatter(thousands())
    ax.margins(x=0.1)
    return log


def infeasible_note(fig: "Figure", summary) -> None:
    """A footnote naming the cells without a model."""
    from bench.report.formatting import fmt_budget

    missing = summary[summary["status"] != "completed"]
    if len(missing):
        cells = ", ".join(f"{r.family} @ {fmt_budget(r.budget)}" for r in missing.itertuples(index=False))
        fig.text(0.01, 0.01, f"No model (infeasible or failed): {cells}", fontsize=7.5, color="0.3", ha="left",
                 va="bottom")
