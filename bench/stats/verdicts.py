"""Four verdicts, error controlled: better, worse, equivalent or inconclusive.

Each comparison of a family with the reference (``conv``) at one budget is paired seed by
seed (seed i trains on the same batches in both) and computed on whole numbers of correct
test images. It gets two tests, and a verdict needs both:

- the **exact sign-flip test over seeds** (:mod:`bench.stats.signflip`): valid whatever the
  distribution, but blind to test-image sampling and floored at 2**(1 − n): 3 seeds can never
  give p < 0.25;
- the **t test whose standard error counts seeds and test images** (:mod:`bench.stats.twoway`): it asks whether the difference would hold on another test split.

A comparison's p-value is the larger of the two, so it is valid if either test is. The two
questions then asked of every comparison in the run, each with Holm's correction over the
run's comparisons at level ``alpha``:

- **is there a difference?** p of "difference = 0"; rejected → *better* or *worse* by its sign;
- **is it within the margin?** the equivalence test (two one-sided tests, TOST: p is the
  larger of "difference ≤ −margin" and "difference ≥ +margin"); rejected → *equivalent*.

Equivalence wins when both are rejected (a difference smaller than the margin is not one the
benchmark calls better or worse); neither rejected → *inconclusive*. The chance of any false
*better*/*worse* in a run is at most ``alpha``, and so is the chance of any false
*equivalent* (the tests prove both by simulation).
"""

from __future__ import annotations

from typing import Dict, Sequence

import numpy as np

from bench.stats.seeds import CONFIDENCE
from bench.stats.signflip import sign_flip, smallest_p
from bench.stats.twoway import Evidence, t_interval, t_p

VERDICTS = ("better", "worse", "equivalent", "inconclusive")
#: The error rate each kind of verdict is held to across a run's comparisons.
ALPHA = 0.05


def paired_tests(ev: Evidence, images: int, margin: float) -> Dict[str, np.ndarray]:
    """Every test of one comparison (or a batch of them, along leading axes).

    Args:
        ev: the paired differences (family − reference), per seed and over images.
        images: the test split's size: per-seed differences times it are whole images.
        margin: the equivalence margin, as a fraction (0.01 = 1 percentage point).

    Returns:
        ``diff``, ``ci_low``, ``ci_high`` (the 95 % interval), ``p`` and ``p_equiv`` (each the
        larger of its sign-flip and t p-values), the four parts (``p_signflip``, ``p_t``,
        ``p_equiv_signflip``, ``p_equiv_t``) and ``p_floor`` (the smallest p the seeds allow).
    """
    counts = np.rint(np.asarray(ev.per_seed, dtype=float) * images)
    shift = margin * images
    p_signflip = sign_flip(counts)["two-sided"]
    p_equiv_signflip = np.maximum(sign_flip(counts, -shift)["greater"], sign_flip(counts, shift)["less"])
    p_t = t_p(ev)
    p_equiv_t = np.maximum(t_p(ev, -margin, "greater"), t_p(ev, margin, "less"))
    low, high = t_interval(ev, CONFIDENCE)
    return {"diff": np.asarray(ev.mean), "ci_low": low, "ci_high": high,
            "p": np.maximum(p_signflip, p_t), "p_equiv": np.maximum(p_equiv_signflip, p_equiv_t),
            "p_signflip": p_signflip, "p_t": p_t, "p_equiv_signflip": p_equiv_signflip, "p_equiv_t": p_equiv_t,
            "p_floor": np.full(np.shape(ev.mean), smallest_p(ev.n))}


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values along the last axis (one run's comparisons; leading axes are
    independent runs); NaN (a comparison not made) stays NaN and is not counted.

    The k-th smallest of m p-values is multiplied by m − k + 1, then made non-decreasing in
    that order and capped at 1. ``statsmodels.stats.multitest.multipletests(method='holm')``
    gives the same numbers (a test checks it) for one run at a time; the simulations adjust
    thousands of runs at once.
    """
    p = np.asarray(p, dtype=float)
    missing = np.isnan(p)
    m = (~missing).sum(axis=-1, keepdims=True)
    order = np.argsort(np.where(missing, np.inf, p), axis=-1, kind="stable")
    ranked = np.take_along_axis(np.where(missing, np.inf, p), order, axis=-1)
    scaled = np.where(np.isinf(ranked), np.nan, np.where(np.isinf(ranked), 0.0, ranked) * (m - np.arange(p.shape[-1])))
    adjusted = np.minimum(1.0, np.maximum.accumulate(scaled, axis=-1))  # NaNs sort last: they hold nothing up
    out = np.empty_like(adjusted)
    np.put_along_axis(out, order, adjusted, axis=-1)
    return np.where(missing, np.nan, out)


def decide(diff: Sequence[float], p: Sequence[float], p_equiv: Sequence[float],
           alpha: float = ALPHA) -> Dict[str, np.ndarray]:
    """The verdicts of a run's comparisons, Holm-corrected over all of them.

    Args:
        diff: each comparison's mean difference (its sign names better or worse); arrays
            of shape (..., comparisons) decide many runs at once.
        p, p_equiv: their p-values of "no difference" and of "outside the margin"; NaN for a
            comparison that could not be made (left out of the correction).
        alpha: the error rate each kind of verdict is held to across the run.

    Returns:
        ``verdict`` (one of :data:`VERDICTS`), ``p_holm`` and ``p_equiv_holm``.
    """
    diff = np.asarray(diff, dtype=float)
    p_holm, p_equiv_holm = holm(p), holm(p_equiv)
    verdict = np.full(diff.shape, "inconclusive", dtype=object)
    differs = p_holm <= alpha
    verdict[differs & (diff > 0)] = "better"
    verdict[differs & (diff < 0)] = "worse"
    verdict[p_equiv_holm <= alpha] = "equivalent"
    return {"verdict": verdict, "p_holm": p_holm, "p_equiv_holm": p_equiv_holm}
