"""The runs a comparison reads, and what makes a set of runs comparable.

Runs are compared cell by cell, so every run must hold the same families; runs on the same
dataset must also hold the same budgets (runs on different datasets may differ in budgets:
each dataset is read at its own). Anything else is refused before anything is written,
naming the run and what differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence

import pandas as pd

from bench.store import ResultsError


class CompareError(ResultsError):
    """Runs that cannot be compared (the message names the run and what differs)."""


@dataclass
class StoredRun:
    """One run of a comparison.

    Attributes:
        label: how the comparison names it (its directory name, or its path when two runs
            share a name).
        path: its directory.
        dataset: the dataset it ran on (run.json).
        data: the run as its report reads it (:class:`bench.report.data.ReportData`).
        table: its one-row-per-cell table (:func:`bench.report.summary_csv.summary_table`).
    """

    label: str
    path: Path
    dataset: str
    data: Any
    table: pd.DataFrame

    @property
    def families(self) -> List[str]:
        return list(self.data.families)

    @property
    def budgets(self) -> List[int]:
        return sorted({int(b) for b in self.table["budget"]})

    @property
    def meta(self) -> Dict[str, Any]:
        return self.data.meta


def load_runs(runs: Sequence, results_dir: Path = Path("results")) -> List[StoredRun]:
    """Reads ``runs`` (names under ``results_dir`` or paths) and checks they can be compared.

    Raises:
        CompareError: fewer than two runs, a run given twice, a run that does not exist or
            cannot be read, runs of different families, or runs on one dataset with
            different budgets (each names the run and what differs).
    """
    from bench.report.data import load
    from bench.report.summary_csv import summary_table
    from bench.store import resolve_run

    runs = [str(r) for r in runs]
    if len(runs) < 2:
        raise CompareError(f"compare needs two or more runs, got {len(runs)}"
                           + (f" ({runs[0]!r})" if runs else "") + ": name at least two runs (names under "
                           f"{str(results_dir)!r} or paths).")
    paths = []
    for run in runs:
        try:
            path = resolve_run(Path(results_dir), run)
        except ResultsError as exc:
            raise CompareError(f"run {run!r} cannot be compared: {exc}") from None
        if path.resolve() in [p.resolve() for p in paths]:
            raise CompareError(f"run {run!r} is given twice: name each run once.")
        paths.append(path)
    names = [p.name for p in paths]
    stored = []
    for run, path in zip(runs, paths):
        try:
            data = load(path)
        except ResultsError as exc:
            raise CompareError(f"run {run!r} cannot be compared: {exc}") from None
        dataset = str((data.meta.get("config") or {}).get("dataset") or (data.meta.get("dataset") or {}).get("name"))
        label = path.name if names.count(path.name) == 1 else str(path)
        stored.append(StoredRun(label, path, dataset, data, summary_table(data)))
    check_comparable(stored)
    return stored


def check_comparable(runs: Sequence[StoredRun]) -> None:
    """Raises CompareError naming the first run whose families (or, on the first run's
    dataset, budgets) differ from those of the first run of its dataset."""
    first = runs[0]
    for run in runs[1:]:
        if set(run.families) != set(first.families):
            raise CompareError(f"run {run.label!r} cannot be compared with {first.label!r}: their families differ "
                               f"({_difference(run.families, first.families, run.label, first.label)}); compare runs "
                               f"of the same families.")
    by_dataset: Dict[str, StoredRun] = {}
    for run in runs:
        other = by_dataset.setdefault(run.dataset, run)
        if run.budgets != other.budgets:
            raise CompareError(f"run {run.label!r} cannot be compared with {other.label!r} on {run.dataset}: their "
                               f"budgets differ ({_difference(run.budgets, other.budgets, run.label, other.label)}); "
                               f"compare runs of one dataset at the same budgets.")


def _difference(these, those, this: str, that: str) -> str:
    only_here = [v for v in these if v not in those]
    only_there = [v for v in those if v not in these]
    parts = ([f"only in {this!r}: {only_here}"] if only_here else []) + \
            ([f"only in {that!r}: {only_there}"] if only_there else [])
    return "; ".join(parts)
