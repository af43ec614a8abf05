"""The report's figures: a registry, one module per figure.

A figure is a function of the stored run (:class:`bench.report.data.ReportData`) returning
the pictures it drew, each a :class:`Drawn` (file name, matplotlib Figure, caption). Built-in
figures are the modules of this package, drawn in name order: a new figure is a new file
here, or a module of another package registered under the ``wsbench.figures`` entry-point
group. A figure with nothing to draw in a run raises :class:`NotDrawn` saying why (the
report prints the reason in the figure's place). Figure modules import their plotting
libraries inside the function, so listing the figures (``wsbench figures``) stays fast::

    from bench.report import style
    from bench.report.figures import Drawn, register_figure

    @register_figure("fig9_params_histogram")
    def params_histogram(data):
        fig = style.new_figure(6, 4)
        ...
        return [Drawn("fig9_params_histogram", fig, "Parameters of every tuned model.")]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, List

from layers.plugins import Registry, import_package_modules

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

ENTRY_POINT_GROUP = "wsbench.figures"


class NotDrawn(Exception):
    """A figure has nothing to draw in this run; the message says why, for the report."""


@dataclass
class Drawn:
    """One picture of the report: saved as ``figures/<name>.png`` and shown with ``caption``."""

    name: str
    figure: "Figure"
    caption: str


DrawFigure = Callable[["ReportData"], List[Drawn]]  # noqa: F821 - see bench.report.data

FIGURES = Registry("figure", ENTRY_POINT_GROUP, lambda: import_package_modules(__name__))


def register_figure(name: str):
    """Decorator registering a figure function ``draw(data) -> list[Drawn]`` under ``name``."""
    return FIGURES.register(name)
