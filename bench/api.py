"""wsbench from Python: run a benchmark from a configuration, load a stored run as pandas
DataFrames, build its report, compare runs.

The command line calls these same functions (``wsbench report`` :func:`report`, ``wsbench
compare`` :func:`compare`; ``wsbench bench`` the :func:`bench.run.runner.run_bench` that
:func:`run` calls). Bad input raises ``ValueError`` naming the value and what is accepted,
and writes nothing. Importing this module loads no TensorFlow; :func:`run` does.

Example::

    from bench import api

    run_dir = api.run(api.config("quick", families=["conv", "sisws"], budgets=[3000]))
    run = api.load(run_dir)
    run.summary[["family", "budget", "mean", "ci_low", "ci_high", "verdict"]]
    api.report(run_dir)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Optional, Union

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from bench.compare.tables import Comparison
    from bench.report.data import ReportData
    from bench.run.config import BenchConfig

RunLike = Union[str, Path, "Run"]


def config(profile: str = "default", **settings) -> "BenchConfig":
    """A run's configuration: the named profile (``default``, ``quick``, ``study``) with
    ``settings`` replaced (any field of :class:`bench.run.config.BenchConfig`, e.g.
    ``dataset="mnist-5k"``, ``families=["conv", "lrlc"]``, ``budgets=[10000]``, ``steps=400``,
    ``run_name="mine"``, ``results_dir="results"``). Checked when the run starts.

    Raises:
        ValueError: an unknown profile or setting (naming the accepted ones).
    """
    from bench.run.config import BenchConfig, profile as named_profile

    fields = [f.name for f in dataclasses.fields(BenchConfig)]
    unknown = sorted(set(settings) - set(fields))
    if unknown:
        raise ValueError(f"setting {unknown[0]!r} is not accepted: use one of {fields}.")
    for name in ("families", "budgets"):
        if name in settings and not isinstance(settings[name], str):
            settings[name] = tuple(settings[name])
    return dataclasses.replace(named_profile(profile), profile=profile, **settings)


def run(config: "BenchConfig") -> Path:
    """Runs (or, when its run directory exists with the same settings, resumes) a benchmark,
    printing its progress as ``wsbench bench`` does; returns the run directory
    (``<results_dir>/<run_name>``), which holds every table, summary.csv and the models.

    Raises:
        ValueError: a bad setting, dataset or budget (named), or a stored run of that name
            with other settings.
    """
    from bench.run.runner import run_bench

    return run_bench(config, ["bench.api.run(config)  (Python; config: run.json's config)"]).path


@dataclass
class Run:
    """A stored run as pandas DataFrames.

    Attributes:
        path: the run directory.
        meta: run.json (configuration, protocol, dataset, hardware, versions).
        summary: one row per family × budget with verdicts against conv: the summary.csv
            table (:data:`bench.report.summary_csv.COLUMNS`).
        final: final.csv, one row per family × budget × seed (test accuracy of the tuned models).
        trials: trials.csv, one row per tuning trial (validation accuracy and loss, hyperparameters).
        baseline: baseline.csv, the untuned plain recipe (empty if the run trained none).
        curves: curves.csv, every validation of every model (empty for runs made before it).
        throughput: throughput.csv (empty when not measured).
        comparisons: every comparison with conv and its statistics
            (:func:`bench.stats.comparisons.compare_all`).
        data: everything the report reads (:class:`bench.report.data.ReportData`).
    """

    path: Path
    meta: Dict[str, Any]
    summary: "pd.DataFrame"
    final: "pd.DataFrame"
    trials: "pd.DataFrame"
    baseline: "pd.DataFrame"
    curves: "pd.DataFrame"
    throughput: "pd.DataFrame"
    comparisons: "pd.DataFrame"
    data: "ReportData"

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}: {len(self.summary)} cells, {len(self.final)} final rows)"


def _run_dir(run: Optional[RunLike], results_dir: Union[str, Path]) -> Path:
    from bench.store import resolve_run

    if isinstance(run, Run):
        return run.path
    return resolve_run(Path(results_dir), None if run is None else str(run))


def load(run: Optional[RunLike] = None, results_dir: Union[str, Path] = "results") -> Run:
    """Reads a stored run (a directory, a name under ``results_dir``, or None: the newest).

    Raises:
        ValueError: the run does not exist, or a file of it is missing or corrupted (named).
    """
    from bench.report.data import load as load_data
    from bench.report.summary_csv import summary_table

    data = load_data(_run_dir(run, results_dir))
    return Run(data.run.path, data.meta, summary_table(data), data.final, data.trials, data.baseline, data.curves,
               data.throughput, data.comparisons, data)


def report(run: Optional[RunLike] = None, results_dir: Union[str, Path] = "results", feature: int = 0) -> Path:
    """Builds a stored run's report.md, figures and summary.csv (never trains); returns the
    path of report.md. See :func:`bench.report.build.build_report`."""
    from bench.report.build import build_report
    from bench.store import RunDir

    run_dir = _run_dir(run, results_dir)
    return build_report(run_dir, in_progress=RunDir(run_dir).holder(), feature=feature)


def compare(*runs: RunLike, results_dir: Union[str, Path] = "results") -> "Comparison":
    """Two or more stored runs side by side (:mod:`bench.compare.tables`): ``.agreement``,
    ``.ranks``, ``.verdicts``, ``.settings`` and ``.cells`` as DataFrames, ``.markdown()``.

    Raises:
        ValueError: fewer than two runs, a missing run, or runs that cannot be compared
            (different families, or different budgets on one dataset), named.
    """
    from bench.compare.tables import compare as compare_runs

    return compare_runs([r.path if isinstance(r, Run) else r for r in runs], Path(results_dir))
