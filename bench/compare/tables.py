"""The tables of a comparison, as DataFrames (:func:`compare`).

- ``cells``: every run's one-row-per-cell table (summary.csv) stacked, with a ``run`` column.
- ``agreement`` (runs on the same dataset): one row per dataset × family × budget, each run's
  mean test accuracy with its 95 % interval and its verdict against the reference, whether
  the intervals overlap (one accuracy lies in all of them) and whether the verdict changed.
- ``ranks`` (runs on the same dataset): per budget and pair of runs, Spearman's rank
  correlation of the families' mean test accuracies (:func:`scipy.stats.spearmanr`).
- ``verdicts``: per run, budget and family other than the reference, the verdict against it
  with its Δ, interval and Holm-corrected p (the per-dataset verdict table).
- ``settings``: the run.json settings, hardware and versions that differ between the runs.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import pandas as pd

from bench.compare.runs import StoredRun, load_runs
from bench.report.summary_csv import DELTA, DELTA_HIGH, DELTA_LOW, REFERENCE_VERDICT
from bench.stats import REFERENCE


@dataclass
class Comparison:
    """Stored runs side by side; every table is a DataFrame (see the module docstring)."""

    runs: List[StoredRun]
    cells: pd.DataFrame
    agreement: pd.DataFrame
    ranks: pd.DataFrame
    verdicts: pd.DataFrame
    settings: pd.DataFrame
    notes: List[str] = field(default_factory=list)

    @property
    def labels(self) -> List[str]:
        return [r.label for r in self.runs]

    @property
    def same_dataset(self) -> bool:
        """Whether every run is on one dataset."""
        return len({r.dataset for r in self.runs}) == 1

    def changed(self) -> pd.DataFrame:
        """The cells whose verdict against the reference differs between runs."""
        return self.agreement[self.agreement["verdict_changed"]] if len(self.agreement) else self.agreement

    def markdown(self) -> str:
        """The comparison as Markdown (what ``wsbench compare`` prints and writes)."""
        from bench.compare.markdown import render

        return render(self)


def compare(runs: Sequence, results_dir: Path = Path("results")) -> Comparison:
    """Compares two or more stored runs (names under ``results_dir`` or paths).

    Raises:
        bench.compare.runs.CompareError: the runs cannot be compared (named, with what differs).
    """
    stored = load_runs(runs, results_dir)
    cells = pd.concat([r.table.assign(run=r.label) for r in stored], ignore_index=True)
    groups = [group for group in _by_dataset(stored).values() if len(group) > 1]
    agreement = pd.concat([cell_agreement(group) for group in groups], ignore_index=True) if groups \
        else pd.DataFrame(columns=["dataset", "family", "budget", "intervals_overlap", "verdict_changed"])
    ranks = pd.concat([rank_correlations(group) for group in groups], ignore_index=True) if groups \
        else pd.DataFrame(columns=RANK_COLUMNS)
    return Comparison(stored, cells, agreement, ranks, verdict_table(stored), differing_settings(stored))


def _by_dataset(runs: Sequence[StoredRun]) -> Dict[str, List[StoredRun]]:
    out: Dict[str, List[StoredRun]] = {}
    for run in runs:
        out.setdefault(run.dataset, []).append(run)
    return out


def cell_agreement(runs: Sequence[StoredRun]) -> pd.DataFrame:
    """One row per family × budget of runs on one dataset (see the module docstring). Columns
    ``<run>: mean``, ``<run>: ci_low``, ``<run>: ci_high``, ``<run>: verdict`` per run, then
    ``intervals_overlap`` (None when a run has no interval there) and ``verdict_changed``."""
    tables = {r.label: r.table.set_index(["family", "budget"]) for r in runs}
    first = runs[0].table
    rows = []
    for family, budget in zip(first["family"], first["budget"]):
        row = {"dataset": runs[0].dataset, "family": family, "budget": int(budget)}
        lows, highs, verdicts = [], [], []
        for label, table in tables.items():
            cell = table.loc[(family, budget)] if (family, budget) in table.index else None
            done = cell is not None and cell["status"] == "completed"
            verdict = (cell["verdict"] or "") if done else (cell["status"] if cell is not None else "not run")
            row.update({f"{label}: mean": cell["mean"] if done else math.nan,
                        f"{label}: ci_low": cell["ci_low"] if done else math.nan,
                        f"{label}: ci_high": cell["ci_high"] if done else math.nan, f"{label}: verdict": verdict})
            lows.append(cell["ci_low"] if done else math.nan)
            highs.append(cell["ci_high"] if done else math.nan)
            verdicts.append(verdict)
        finite = all(math.isfinite(v) for v in lows + highs)
        row["intervals_overlap"] = bool(max(lows) <= min(highs)) if finite else None
        row["verdict_changed"] = len(set(verdicts)) > 1
        rows.append(row)
    return pd.DataFrame(rows)


RANK_COLUMNS = ["dataset", "budget", "run_a", "run_b", "families", "spearman_rho", "p"]


def rank_correlations(runs: Sequence[StoredRun]) -> pd.DataFrame:
    """Per budget and pair of runs on one dataset: Spearman's rank correlation of the mean
    test accuracies of the families both completed there (NaN with fewer than 3 such
    families, or when one run's means are all equal)."""
    from scipy.stats import spearmanr

    rows = []
    for a, b in itertools.combinations(runs, 2):
        for budget in a.budgets:
            means = [r.table[(r.table["budget"] == budget) & (r.table["status"] == "completed")]
                     .set_index("family")["mean"] for r in (a, b)]
            families = [f for f in means[0].index if f in means[1].index]
            x, y = means[0][families].to_numpy(float), means[1][families].to_numpy(float)
            rho = p = math.nan
            if len(families) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = spearmanr(x, y)
                rho, p = float(result.statistic), float(result.pvalue)
            rows.append({"dataset": a.dataset, "budget": int(budget), "run_a": a.label, "run_b": b.label,
                         "families": len(families), "spearman_rho": rho, "p": p})
    return pd.DataFrame(rows, columns=RANK_COLUMNS)


VERDICT_COLUMNS = ["run", "dataset", "budget", "family", "seeds", "mean", DELTA, DELTA_LOW, DELTA_HIGH, "p_holm",
                   "verdict"]


def verdict_table(runs: Sequence[StoredRun]) -> pd.DataFrame:
    """Per run, budget and family other than the reference: the verdict against it (a cell
    without a model: its status; not compared: '')."""
    rows = []
    for run in runs:
        for r in run.table.to_dict("records"):
            if r["family"] == REFERENCE:
                continue
            verdict = r["verdict"] if r["status"] == "completed" else r["status"]
            rows.append({"run": run.label, "dataset": run.dataset, "budget": int(r["budget"]), "family": r["family"],
                         "seeds": r["seeds"], "mean": r["mean"], DELTA: r[DELTA], DELTA_LOW: r[DELTA_LOW],
                         DELTA_HIGH: r[DELTA_HIGH], "p_holm": r["p_holm"],
                         "verdict": verdict if isinstance(verdict, str) and verdict != REFERENCE_VERDICT else ""})
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


#: run.json entries whose differences a comparison names (settings, hardware, library versions,
#: the steps --steps auto chose, wsbench's commit).
SETTINGS = (("config", None), ("hardware", None), ("versions", None), ("steps_choice", "steps"), ("git_commit", None))
#: Settings that always differ between runs and say nothing about their numbers.
IGNORED = {"config.run_name", "config.results_dir"}


def differing_settings(runs: Sequence[StoredRun]) -> pd.DataFrame:
    """One row per run.json setting (configuration, hardware, library versions, the steps
    --steps auto chose) whose value differs between the runs: ``setting`` then one column per run."""
    from bench.run.config import BenchConfig

    defaults = BenchConfig().comparable()  # a setting added after a run was stored had its default in it
    flat = []
    for run in runs:
        values = {}
        for section, key in SETTINGS:
            entry = run.meta.get(section) or {}
            if section == "config":
                entry = {**defaults, **entry}
            if not isinstance(entry, dict):
                values[section] = entry
                continue
            if key is not None:
                values[f"{section}.{key}"] = entry.get(key)
                continue
            for name, value in entry.items():
                values[f"{section}.{name}"] = value
        flat.append(values)
    keys = sorted(set().union(*flat) - IGNORED)
    rows = []
    for key in keys:
        shown = [_text(values.get(key)) for values in flat]
        if len(set(shown)) > 1:
            rows.append({"setting": key, **dict(zip([r.label for r in runs], shown))})
    return pd.DataFrame(rows, columns=["setting"] + [r.label for r in runs])


def _text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)
