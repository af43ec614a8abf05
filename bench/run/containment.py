"""A family whose layer raises does not stop a run, and a resumed run retrains what failed.

- **A trial** whose model raises while being built or trained is a failed trial: the error's
  type and message go to trials.csv (as keras-tuner's own failed trials), and the search goes
  on (:func:`failed_trial_on_error`).
- **A stage** of a cell (its final evaluation, its plain-recipe baseline) that raises is a
  ``failed`` row with the reason, like an infeasible cell's, and the other cells run
  (:func:`stage_failure_recorded`).
- **Resuming** (:func:`forget_failures`) removes those rows, so the same command, rerun
  after the family is fixed, retrains exactly what failed: the failed trials (they run
  again with the values they had), then the final evaluation of their cells (its best trial
  may change), and the failed stages; nothing else.

A model whose parameter count disagrees with its family's formula is never contained: the
run is refused (:class:`bench.run.counts.ParamCountMismatch`, exit code 2).
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Dict, Iterator, Set, Tuple

import keras_tuner as kt
import pandas as pd

from bench.run.counts import ParamCountMismatch
from bench.store import ResultsError, RunDir
from bench.store.failures import FAILED

Report = Callable[[Dict[str, Any]], None]


class RefusedModel(ParamCountMismatch, kt.errors.FatalError):
    """A ParamCountMismatch raised inside a trial: fatal, so keras-tuner ends the search with it
    instead of recording a failed trial."""


def error_text(exc: BaseException) -> str:
    """The error's type and message on one line, e.g. ``ValueError: depth_multiplier=1 ...``."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


@contextlib.contextmanager
def failed_trial_on_error() -> Iterator[None]:
    """Around a keras-tuner trial: any error becomes keras-tuner's FailedTrialError carrying its
    type and message (the trial fails, the search goes on); a ParamCountMismatch ends the run."""
    try:
        yield
    except (kt.errors.FailedTrialError, kt.errors.FatalError):
        raise
    except ParamCountMismatch as exc:
        raise RefusedModel(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - whatever a family's layer raises
        raise kt.errors.FailedTrialError(error_text(exc)) from exc


@contextlib.contextmanager
def stage_failure_recorded(run: RunDir, table: str, context: Dict[str, Any], report: Report) -> Iterator[None]:
    """Around a cell's final evaluation or baseline: an error of the family's layer is recorded
    as the cell's ``failed`` row of ``table`` with the error's type and message."""
    try:
        yield
    except (ParamCountMismatch, ResultsError):
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a family's layer raises
        # The one row of a cell that trains no model (as bench.run.evaluation.empty_row writes it).
        for row in run.append(table, [dict(context, seed="", status=FAILED, reason=error_text(exc))]):
            report(row)


def forget_failures(run: RunDir, stages: Tuple[str, ...]) -> str:
    """Removes what failed from a run being resumed, so that it is retrained; returns a line
    saying what will be retrained ('' when nothing failed).

    For the stages being run: failed trials (search); every final row, the saved model and the
    throughput row of a cell with a failed trial (its best trial may change) or a failed final
    row; failed baseline rows.
    """
    cells: Set[Tuple[str, int]] = set()
    trial_ids: Set[Tuple[str, int, str]] = set()
    said = []
    if "search" in stages:
        trials = run.read("trials")
        failed = trials[trials["status"] == FAILED]
        trial_ids = {(str(r.family), int(r.budget), str(r.trial_id)) for r in failed.itertuples(index=False)}
        cells = {(f, b) for f, b, _ in trial_ids}
        if run.discard("trials", lambda frame: frame["status"] == FAILED):
            said.append(f"{len(trial_ids)} failed trial(s)")
    if "final" in stages:
        final = run.read("final")
        cells |= {(str(r.family), int(r.budget)) for r in final[final["status"] == FAILED].itertuples(index=False)}
        in_cells = lambda frame: _cell_mask(frame, cells)  # noqa: E731
        if run.discard("final", in_cells):
            said.append(f"the final evaluation of {', '.join(f'{f} @ {b:,}' for f, b in sorted(cells))}")
        run.discard("throughput", in_cells)
        for family, budget in cells:
            run.model_path(family, budget).unlink(missing_ok=True)
    _forget_curves(run, cells, trial_ids)
    if "baseline" in stages:
        removed = run.discard("baseline", lambda frame: frame["status"] == FAILED)
        if removed:
            said.append(f"{removed} failed plain-recipe cell(s)")
    return ("wsbench: retraining what failed in the stored run: " + "; ".join(said) + ".") if said else ""


def _cell_mask(frame: pd.DataFrame, cells: Set[Tuple[str, int]]) -> pd.Series:
    return pd.Series([(str(f), int(b)) in cells for f, b in zip(frame["family"], frame["budget"])], index=frame.index,
                     dtype=bool)


def _forget_curves(run: RunDir, cells: Set[Tuple[str, int]], trial_ids: Set[Tuple[str, int, str]]) -> None:
    """Per-model tables (learning curves, which test images were right) of what is retrained."""
    from bench.store.schema import TABLES

    for table in ("curves", "correct"):
        if table not in TABLES or not run.has(table):
            continue
        columns = set(TABLES[table].columns)

        def drop(frame, columns=columns):
            stage = frame["stage"].astype(str)
            cell = _cell_mask(frame, cells)
            trial = pd.Series([(str(f), int(b), str(t)) in trial_ids for f, b, t in
                               zip(frame["family"], frame["budget"], frame["trial"])] if "trial" in columns else False,
                              index=frame.index, dtype=bool)
            return ((stage == "final") & cell) | ((stage == "trial") & trial)

        run.discard(table, drop)
