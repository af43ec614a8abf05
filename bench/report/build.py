"""``wsbench report`` / ``make report``: a run's stored results as report.md and figures.

Reads ``results/<run>/`` only (run.json, the tables and the saved models some figures
draw); it never trains. Writes ``report.md`` and ``figures/*.png`` into the run directory
(every figure registered in :mod:`bench.report.figures`, in order), and rebuilds the run's
TensorBoard HParams logs (:mod:`bench.store.tensorboard`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from bench.report.data import ReportError, load
from bench.report.figures import FIGURES
from bench.report.markdown import render_markdown
from bench.report.style import save
from bench.store.atomic import write_text_atomic
from bench.store.tensorboard import write_hparams

__all__ = ["ReportError", "build_report"]


def build_report(run_dir: Path, in_progress: Optional[dict] = None) -> Path:
    """Writes ``run_dir/report.md`` and ``run_dir/figures/*.png`` from the stored results.

    Args:
        run_dir: results/<run>.
        in_progress: the details of the process writing the run now (see
            :meth:`bench.store.RunDir.holder`), or None.

    Returns:
        The path of report.md.

    Raises:
        ReportError: run.json, a table, or a model file a figure draws is missing or
            corrupted (named in the message).
    """
    data = load(run_dir, in_progress)
    fig_dir = data.run.path / "figures"
    fig_dir.mkdir(exist_ok=True)
    for stale in fig_dir.glob("*.png"):  # a rebuild must not keep figures of an earlier report
        stale.unlink()
    figures = []
    for name in FIGURES.names():
        draw = FIGURES.get(name)
        try:
            drawn = draw(data)
        except (OSError, ValueError) as exc:
            raise ReportError(f"figure {name}: {exc}") from exc
        for picture in drawn:
            save(picture.figure, fig_dir / f"{picture.name}.png")
        figures.append(((draw.__doc__ or name).strip().splitlines()[0], drawn))
    report = data.run.path / "report.md"
    write_text_atomic(report, render_markdown(data, figures))
    write_hparams(data.run.path)
    return report
