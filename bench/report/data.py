"""What the report is drawn from: a stored run's tables, loaded once and summarised."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pandas as pd

from bench.report import tables
from bench.stats.comparisons import compare_all
from bench.stats.verdicts import ALPHA
from bench.store import ResultsError, RunDir
from bench.store.correct import bits_by_cell

#: The equivalence margin of runs stored before it was a setting, in percentage points.
DEFAULT_MARGIN_POINTS = 1.0


class ReportError(ResultsError):
    """A run the report cannot be built from (the message names the file or value)."""


@dataclass
class ReportData:
    """A stored run, as every figure and table of the report sees it.

    Attributes:
        run: the run directory.
        meta: run.json.
        final, trials, throughput: the tables.
        baseline: baseline.csv (empty when the run has no plain-recipe baseline).
        correct: correct.csv (empty when the run predates per-image results).
        curves: curves.csv, every validation of every model (empty for a run made before
            wsbench kept learning curves; :attr:`has_curves` tells the two apart).
        families: families in the run's configured order (then any others found).
        summary: one row per family × budget, with its comparison with the reference
            (see :func:`bench.report.tables.accuracy_summary`, :func:`~bench.report.tables.with_comparisons`).
        baseline_summary: the same for the baseline (no comparisons).
        comparisons: one row per comparison with the reference (:func:`bench.stats.comparisons.compare_all`).
        images: the size of the test split.
        margin: the equivalence margin, as a fraction.
        alpha: the error rate each kind of verdict is held to across the run.
        cap: the seed cap of a run that added seeds where verdicts were open, else None.
        styles: family → (colour, marker), the same in every figure.
        in_progress: the process writing the run now, or None.
        feature: the output channel figure 5 draws the similarity map of (``--feature``).
    """

    run: RunDir
    meta: Dict[str, Any]
    final: pd.DataFrame
    trials: pd.DataFrame
    throughput: pd.DataFrame
    baseline: pd.DataFrame
    correct: pd.DataFrame
    families: List[str]
    summary: pd.DataFrame
    baseline_summary: pd.DataFrame
    comparisons: pd.DataFrame
    images: int
    margin: float
    alpha: float = ALPHA
    cap: Optional[int] = None
    styles: Dict[str, Tuple[tuple, str]] = field(default_factory=dict)
    in_progress: Optional[dict] = None
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    feature: int = 0

    @property
    def has_curves(self) -> bool:
        """Whether the run keeps learning curves (curves.csv exists)."""
        return self.run.has("curves")

    @property
    def budgets(self) -> List[int]:
        """Every budget of the run, ascending."""
        return sorted(set(self.summary["budget"]) | set(self.trials["budget"]))

    @property
    def tolerance(self) -> Optional[float]:
        return (self.meta.get("config") or {}).get("tolerance")

    @property
    def images_kept(self) -> bool:
        """Whether the run kept which test images each model got right (correct.csv)."""
        return len(self.correct) > 0

    def missing_models(self) -> List[Tuple[str, int]]:
        """(family, budget) of the cells without a model (infeasible or failed)."""
        return [(r.family, r.budget) for r in self.summary.itertuples(index=False) if r.status != "completed"]


def test_images(meta: Dict[str, Any]) -> int:
    """The size of a run's test split, from run.json."""
    size = ((meta.get("dataset") or {}).get("sizes") or {}).get("test")
    if not isinstance(size, (int, float)) or size <= 0:
        raise ReportError("run.json does not record the test split's size (dataset.sizes.test): the statistics "
                          "count whole test images.")
    return int(size)


def verdict_rules(meta: Dict[str, Any]) -> Tuple[float, Optional[int]]:
    """(margin as a fraction, seed cap or None) of a run, from run.json (defaults for old runs)."""
    config = meta.get("config") or {}
    margin = float(config.get("margin", DEFAULT_MARGIN_POINTS)) / 100
    cap = int(config.get("max_seeds")) if config.get("seeds") == "auto" and config.get("max_seeds") else None
    return margin, cap


def load(run_dir: Path, in_progress: Optional[dict] = None, feature: int = 0) -> ReportData:
    """Reads a run for the report.

    Args:
        run_dir: results/<run>.
        in_progress: the details of the process writing the run now, or None.
        feature: the output channel figure 5 draws (checked against each layer when drawn).

    Raises:
        ReportError: run.json or a table is missing or corrupted (named), or final.csv is empty;
            ``feature`` is not an int >= 0.
    """
    if isinstance(feature, bool) or not isinstance(feature, int) or feature < 0:
        raise ReportError(f"feature={feature!r} is not accepted: give an output channel, an int >= 0.")
    from bench.report.style import family_styles

    run = RunDir(run_dir)
    try:
        meta = run.read_run()
        final = run.require("final", hint="the run has no final evaluation yet")
        trials = run.require("trials", hint="the run has no tuning trials yet")
        measured = meta.get("config", {}).get("throughput", True)  # a profile may skip the stage (study)
        throughput = (run.require("throughput", hint=f"measure it with `wsbench throughput {run_dir}`")
                      if measured else run.read("throughput"))
        baseline, correct, curves = run.read("baseline"), run.read("correct"), run.read("curves")
    except ResultsError as exc:
        raise ReportError(str(exc)) from None
    families = tables.family_order(meta, final, trials, throughput)
    images = test_images(meta)
    margin, cap = verdict_rules(meta)
    summary = tables.accuracy_summary(final, families, images, bits_by_cell(correct, "final"))
    if summary.empty:
        raise ReportError(f"{str(run.table_path('final'))!r} has no rows: nothing to report yet.")
    comparisons = compare_all(tables.cells_of(summary), families, margin=margin, cap=cap)
    return ReportData(run, meta, final, trials, throughput, baseline, correct, families,
                      tables.with_comparisons(summary, comparisons),
                      tables.accuracy_summary(baseline, families, images, bits_by_cell(correct, "baseline")),
                      comparisons, images, margin, ALPHA, cap, family_styles(families), in_progress, curves, feature)
