"""The summary of a study, written beside its runs from the stored runs alone (like a report):

- ``summary.md``: the runs and what each backbone sees, the known answers (datasets built to
  have one), the verdict against conv per dataset × budget × family, Δ against conv, and
  (studies that aggregate) the aggregate over datasets and budgets with its method and caveats;
- ``summary.png``: Δ against conv per family, one panel per dataset (:mod:`bench.study.figures`);
- ``verdicts.csv``: one row per dataset × budget × family other than conv;
  ``verdicts.json``: the known answers;
- with an aggregate: ``aggregate.csv`` (:mod:`bench.study.aggregate`), ``ranks.csv`` and
  ``ranks.png``, the critical-difference diagram (:mod:`bench.study.ranks`).

Datasets with a known answer (built to disagree, like the shapes pair) are never aggregated:
they are shown side by side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

import pandas as pd

from bench.compare.runs import StoredRun
from bench.compare.tables import verdict_table
from bench.report.style import save
from bench.stats import REFERENCE
from bench.store.atomic import write_csv_atomic, write_text_atomic
from bench.study.answers import Verdict, evaluate


@dataclass
class StudySummary:
    """What a study's summary holds (every table also as a file beside summary.md).

    Attributes:
        runs: the study's runs, one per dataset.
        rules: each run's known answer ('' for none).
        known_answers: the verdict on each known answer.
        verdicts: one row per dataset × budget × family other than conv (verdicts.csv).
        aggregate: P(beating conv) and the IQM of Δ per family, or None (aggregate.csv).
        ranks: the rank analysis (:class:`bench.study.ranks.Ranks`), or None.
        pooled: the runs the aggregate is over.
        headline: one line per result, as ``wsbench study`` prints it.
    """

    runs: List[StoredRun]
    rules: List[str]
    known_answers: List[Verdict]
    verdicts: pd.DataFrame
    aggregate: Optional[pd.DataFrame] = None
    ranks: Optional[object] = None
    pooled: List[StoredRun] = field(default_factory=list)
    headline: List[str] = field(default_factory=list)


def load(run_dirs: Sequence[Path]) -> List[StoredRun]:
    """The stored runs of a study, each read as its report reads it (:func:`bench.report.data.load`)."""
    from bench.report.data import load as load_run
    from bench.report.summary_csv import summary_table

    runs = []
    for path in run_dirs:
        data = load_run(Path(path))
        dataset = str(data.meta["config"]["dataset"])
        runs.append(StoredRun(Path(path).name, Path(path), dataset, data, summary_table(data)))
    return runs


def known_answer(dataset: str) -> str:
    """The dataset's known answer ('' for none, or a dataset not installed here)."""
    from bench.data import resolve_source

    try:
        return resolve_source(dataset).known_answer or ""
    except ValueError:
        return ""


def summarise(run_dirs: Sequence[Path], aggregate: bool = False) -> StudySummary:
    """Everything the summary states, computed from the stored runs; writes nothing."""
    from bench.report.style import ordered_families
    from bench.study.aggregate import aggregate as aggregate_scores, scores_of
    from bench.study.ranks import accuracy_table, rank_families

    runs = load(run_dirs)
    rules = [known_answer(r.dataset) for r in runs]
    answers = [evaluate(r.dataset, rule, r.data.comparisons) for r, rule in zip(runs, rules) if rule]
    summary = StudySummary(runs, rules, answers, verdict_table(runs))
    for v in answers:
        summary.headline.append(f"{v.dataset} ({v.rule}): known answer {'FOUND' if v.passed else 'NOT FOUND'}")
    summary.pooled = [r for r, rule in zip(runs, rules) if not rule] if aggregate else []
    if aggregate and not summary.pooled:
        summary.headline.append("not aggregated: every dataset of the study was built to have a known answer")
    if summary.pooled:
        families = ordered_families({f for r in summary.pooled for f in r.families})
        summary.aggregate = aggregate_scores(scores_of(summary.pooled), families)
        summary.ranks = rank_families(accuracy_table(summary.pooled, families), alpha=runs[0].data.alpha)
        for r in summary.aggregate.dropna(subset=["p_improvement"]).itertuples(index=False):
            summary.headline.append(f"{r.family}: P(beats {REFERENCE}) {r.p_improvement:.2f} [{r.p_improvement_low:.2f}, "
                                    f"{r.p_improvement_high:.2f}], IQM Δ {100 * r.iqm_delta:+.1f} points "
                                    f"[{100 * r.iqm_delta_low:+.1f}, {100 * r.iqm_delta_high:+.1f}] over {r.tasks} "
                                    f"tasks")
    return summary


def write_summary(out_dir: Path, run_dirs: Sequence[Path], aggregate: bool = False) -> StudySummary:
    """Writes the summary's files into ``out_dir`` (see the module docstring); every figure is
    drawn before anything is written. Returns what it states."""
    from bench.study.figures import delta_figure, rank_figure
    from bench.study.summary_markdown import render

    summary = summarise(run_dirs, aggregate)
    figures = {"summary.png": delta_figure(summary.runs, summary.rules)}
    if summary.ranks is not None:
        figures["ranks.png"] = rank_figure(summary.ranks)
    tables = {"verdicts.csv": summary.verdicts}
    if summary.aggregate is not None:
        tables["aggregate.csv"] = summary.aggregate
    if summary.ranks is not None:
        both = [summary.ranks.accuracy.add_suffix(" accuracy"), summary.ranks.ranks.add_suffix(" rank")]
        tables["ranks.csv"] = pd.concat(both, axis=1).rename_axis("task").reset_index()
    text = render(summary, figures)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, figure in figures.items():
        save(figure, out_dir / name)
    for name, table in tables.items():
        write_csv_atomic(table, out_dir / name)
    for stale in ("aggregate.csv", "ranks.csv", "ranks.png"):  # a rebuild keeps nothing it no longer makes
        if stale not in figures and stale not in tables:
            (out_dir / stale).unlink(missing_ok=True)
    write_text_atomic(out_dir / "summary.md", text)
    write_text_atomic(out_dir / "verdicts.json", json.dumps([v.__dict__ for v in summary.known_answers], indent=2)
                      + "\n")
    return summary
