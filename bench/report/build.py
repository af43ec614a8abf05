"""``wsbench report`` / ``make report``: a run's stored results as report.md and figures.

Reads ``results/<run>/`` only (run.json, the tables and the saved models some figures
draw); it never trains. Writes ``report.md`` and ``figures/*.png`` into the run directory
(every figure registered in :mod:`bench.report.figures`, in order), ``summary.csv``
(:mod:`bench.report.summary_csv`), and rebuilds the run's TensorBoard HParams logs
(:mod:`bench.store.tensorboard`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from bench.report.data import ReportError, load
from bench.report.figures import FIGURES, NotDrawn
from bench.report.markdown import render_markdown
from bench.report.style import save
from bench.report.summary_csv import write_summary_table
from bench.store.atomic import write_text_atomic
from bench.store.tensorboard import write_hparams

__all__ = ["ReportError", "build_report"]


def figure_summary(draw, name: str) -> str:
    """The first paragraph of a figure function's docstring, on one line (else its name)."""
    return " ".join((draw.__doc__ or name).strip().split("\n\n")[0].split())


def draw_figures(data):
    """Every registered figure drawn in memory, in order: (summary, pictures, why not drawn).

    Raises:
        ReportError: a figure failed on a missing file or a bad value (named).
    """
    figures = []
    for name in FIGURES.names():
        draw = FIGURES.get(name)
        try:
            figures.append((figure_summary(draw, name), draw(data), ""))
        except NotDrawn as reason:
            figures.append((figure_summary(draw, name), [], str(reason)))
        except (OSError, ValueError) as exc:
            raise ReportError(f"figure {name}: {exc}") from exc
    return figures


def build_report(run_dir: Path, in_progress: Optional[dict] = None, feature: int = 0) -> Path:
    """Writes ``run_dir/report.md``, ``run_dir/figures/*.png`` and ``run_dir/summary.csv`` from
    the stored results.

    Every figure is drawn before anything is written, so a figure that fails (a missing
    model, a ``feature`` a layer does not have) leaves the run's files as they were.

    Args:
        run_dir: results/<run>.
        in_progress: the details of the process writing the run now (see
            :meth:`bench.store.RunDir.holder`), or None.
        feature: the output channel figure 5 draws the similarity map of.

    Returns:
        The path of report.md.

    Raises:
        ReportError: run.json, a table, or a model file a figure draws is missing or
            corrupted (named in the message), or ``feature`` is out of range.
    """
    data = load(run_dir, in_progress, feature=feature)
    figures = draw_figures(data)
    fig_dir = data.run.path / "figures"
    fig_dir.mkdir(exist_ok=True)
    for stale in fig_dir.glob("*.png"):  # a rebuild must not keep figures of an earlier report
        stale.unlink()
    for _, drawn, _ in figures:
        for picture in drawn:
            save(picture.figure, fig_dir / f"{picture.name}.png")
    report = data.run.path / "report.md"
    write_text_atomic(report, render_markdown(data, figures))
    write_summary_table(data)
    write_hparams(data.run.path)
    return report
