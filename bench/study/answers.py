"""Known answers: what the benchmark must find on datasets built to have one.

- ``what-is-where`` (e.g. ``shapes-aligned``): the class depends on where things are, and a
  global-average-pooled convolution cannot see where. Every position-aware family
  (``Family.position_aware``) must be *better* than ``conv`` (the run's verdict, error
  controlled over its comparisons: :mod:`bench.stats.verdicts`) at every budget where both
  have a model.
- ``what-only`` (e.g. ``shapes-anywhere``): position is irrelevant, so hard sharing has the
  right prior. ``conv`` must be at least as good as ``locally_connected``: the verdict on
  ``locally_connected`` is never *better*.

If the benchmark cannot show both, its protocol is wrong (undertrained, unfairly tuned, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List

import pandas as pd

from layers import get_family

from bench.stats import REFERENCE


@dataclass
class Verdict:
    """Whether one dataset's known answer was found, and what each check saw."""

    dataset: str
    rule: str
    passed: bool
    checks: List[str] = field(default_factory=list)


def evaluate(dataset: str, rule: str, comparisons: pd.DataFrame) -> Verdict:
    """Checks ``rule`` against a run's comparisons with the reference
    (:func:`bench.stats.comparisons.compare_all`)."""
    checks, passed = [], True
    if comparisons.empty:
        return Verdict(dataset, rule, False, [f"no comparison with {REFERENCE}: it has no model to compare with"])
    for r in comparisons.itertuples(index=False):
        said = f"{r.family} @ {int(r.budget):,}: {100 * r.diff:+.1f} points vs {REFERENCE}, {_p(r.p_holm)} (Holm), " \
               f"{r.n} seeds — {r.verdict}"
        if rule == "what-is-where" and _position_aware(r.family):
            ok = r.verdict == "better"
            checks.append(said + ("" if ok else f": NOT better"))
        elif rule == "what-only" and r.family == "locally_connected":
            ok = r.verdict != "better"
            checks.append(said + (f": {REFERENCE} at least as good" if ok else f": {REFERENCE} WORSE"))
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
    """'p = 0.012', 'p < 0.001' or 'p n/a' (a Holm-adjusted p-value)."""
    return "p n/a" if p is None or math.isnan(p) else ("p < 0.001" if p < 0.001 else f"p = {p:.3f}")
