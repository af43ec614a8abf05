"""Every comparison of a run with the reference family, and its verdict.

One row per family × budget other than the reference: the paired difference over the seeds
both trained (whole test images; over seeds and images when per-image results were kept),
its 95 % interval, the exact and t p-values and their Holm-corrected forms, the verdict
(:mod:`bench.stats.verdicts`), the smallest difference the run could detect and the seeds that
would bring it to the margin (:mod:`bench.stats.power`), and, in a run that added seeds where
verdicts were open, where each comparison stopped and why (:mod:`bench.stats.sequential`).
"""

from __future__ import annotations

import math
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from bench.stats import REFERENCE
from bench.stats.outcomes import Outcomes, paired_evidence
from bench.stats.power import detectable, seeds_needed
from bench.stats.sequential import replay
from bench.stats.verdicts import ALPHA, decide, paired_tests

Cell = Tuple[str, int]
COLUMNS = ("family", "budget", "n", "diff", "ci_low", "ci_high", "p_signflip", "p_t", "p", "p_holm", "p_equiv",
           "p_equiv_holm", "p_floor", "verdict", "images_resampled", "spread", "detectable", "seeds_needed",
           "stopped", "chance")


def compare_all(cells: Dict[Cell, Outcomes], families: Sequence[str], *, margin: float, alpha: float = ALPHA,
                cap: Optional[int] = None, reference: str = REFERENCE) -> pd.DataFrame:
    """The run's comparisons with ``reference``, one row each, in family then budget order.

    Args:
        cells: (family, budget) → the outcomes of its completed seeds (cells without any are
            left out: no comparison).
        families: the order of the rows.
        margin: the equivalence margin as a fraction (0.01 = 1 point).
        alpha: the error rate each kind of verdict is held to across the run.
        cap: the seed cap of a run that added seeds where verdicts were open (``--seeds
            auto``); None for a fixed number of seeds.
    """
    budgets = sorted({b for _, b in cells})
    pairs = [(f, b) for f in families if f != reference for b in budgets
             if (f, b) in cells and (reference, b) in cells]
    level = alpha / max(len(pairs), 1)  # the first step of Holm's correction: the strictest
    rows = []
    for family, budget in pairs:
        a, b = cells[(family, budget)], cells[(reference, budget)]
        stop = {"status": "fixed", "seeds": None, "chance": math.nan}
        if cap is not None:
            stop = replay(lambda n: paired_evidence(a, b, first=n), cap, margin, level)
        ev = paired_evidence(a, b, first=stop["seeds"])
        if ev is None:
            continue
        tests = {k: float(np.asarray(v)) for k, v in paired_tests(ev, a.images, margin).items()}
        if stop["status"] in ("futile", "pending"):  # no verdict before the cap (see bench.stats.sequential)
            tests["p"] = tests["p_equiv"] = 1.0
        rows.append({"family": family, "budget": budget, "n": ev.n, **tests,
                     "images_resampled": ev.images_resampled, "spread": math.sqrt(float(ev.seed_var))
                     if ev.n > 1 else math.nan, "detectable": detectable(ev, level),
                     "seeds_needed": seeds_needed(ev, margin, level) if ev.n > 1 else None,
                     "stopped": stop["status"], "chance": stop["chance"]})
    table = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("p_holm", "p_equiv_holm", "verdict")])
    decided = decide(table["diff"], table["p"], table["p_equiv"], alpha) if len(table) else \
        {"verdict": [], "p_holm": [], "p_equiv_holm": []}
    for key in ("verdict", "p_holm", "p_equiv_holm"):
        table[key] = list(decided[key])
    return table[list(COLUMNS)]
