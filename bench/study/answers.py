"""Known answers: what the benchmark must find on datasets built to have one.

- ``what-is-where`` (e.g. ``shapes-aligned``): the class depends on where things are, and a
  global-average-pooled convolution cannot see where. Every position-aware family
  (``Family.position_aware``) must beat ``conv`` significantly (paired over seeds,
  p < :data:`ALPHA`) at every budget where both have a model.
- ``what-only`` (e.g. ``shapes-anywhere``): position is irrelevant, so hard sharing has the
  right prior. ``conv`` must be at least as good as ``locally_connected``: not
  significantly worse at any budget.

If the benchmark cannot show both, its protocol is wrong (undertrained, unfairly tuned, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List

import pandas as pd

from layers import get_family

ALPHA = 0.05
from bench.stats import REFERENCE


@dataclass
class Verdict:
    """Whether one dataset's known answer was found, and what each check saw."""

    dataset: str
    rule: str
    passed: bool
    checks: List[str] = field(default_factory=list)


def evaluate(dataset: str, rule: str, summary: pd.DataFrame) -> Verdict:
    """Checks ``rule`` against a run's accuracy summary (:func:`bench.report.tables.accuracy_summary`)."""
    done = summary[summary["status"] == "completed"]
    checks, passed = [], True
    for budget in sorted(done["budget"].unique()):
        cell = done[done["budget"] == budget]
        if REFERENCE not in set(cell["family"]):
            checks.append(f"{int(budget):,}: no {REFERENCE} model to compare with")
            passed = False
            continue
        for r in cell[cell["family"] != REFERENCE].itertuples(index=False):
            if rule == "what-is-where" and _position_aware(r.family):
                ok = r.diff_vs_reference > 0 and r.p_value < ALPHA
                checks.append(f"{r.family} @ {int(budget):,}: {r.diff_vs_reference:+.3f} vs {REFERENCE}, "
                              f"{_p(r.p_value)} — {'beats it significantly' if ok else 'NOT significantly better'}")
            elif rule == "what-only" and r.family == "locally_connected":
                ok = not (r.diff_vs_reference > 0 and r.p_value < ALPHA)
                checks.append(f"{r.family} @ {int(budget):,}: {r.diff_vs_reference:+.3f} vs {REFERENCE}, "
                              f"{_p(r.p_value)} — {REFERENCE} " + ("at least as good" if ok else
                                                                        "significantly WORSE"))
            else:
                continue
            passed = passed and ok
    if not checks:
        passed = False
        checks.append("no family the rule applies to has a model")
    return Verdict(dataset, rule, passed, checks)


def _position_aware(family: str) -> bool:
    try:
        return bool(get_family(family).position_aware)
    except ValueError:  # a family of the run that is not installed here
        return False


def _p(p: float) -> str:
    """'p = 0.012', 'p < 0.001' or 'p n/a'."""
    return "p n/a" if p is None or math.isnan(p) else ("p < 0.001" if p < 0.001 else f"p = {p:.3f}")
