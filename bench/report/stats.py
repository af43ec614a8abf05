"""Uncertainty: mean, spread and a t-based 95 % CI over seeds, paired comparisons between
families, and the study-to-study spread of a search (bootstrap over its trials).

Seeds are few (3–5), so intervals use Student's t rather than a normal approximation.
"""

from __future__ import annotations

import math
from typing import Dict, Iterable

import numpy as np
from scipy import stats as _sp

CONFIDENCE = 0.95


def _as_sample(values: Iterable[float], name: str) -> np.ndarray:
    """Returns ``values`` as a 1-D float array; raises on an empty or non-finite sample."""
    arr = np.asarray(list(values), dtype=float).ravel()
    if arr.size == 0:
        raise ValueError(f"{name} is empty: give at least one value.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}={arr.tolist()!r} holds a non-finite value: give finite numbers only.")
    return arr


def summarize(values: Iterable[float]) -> Dict[str, float]:
    """Mean, sample standard deviation and a two-sided 95 % confidence interval.

    Args:
        values: the measurements (e.g. test accuracy of each seed); finite numbers.

    Returns:
        ``{"mean", "std", "n", "ci_low", "ci_high"}``. ``std`` uses ddof=1; the CI is
        mean ± t(0.975, n−1)·std/√n. With n = 1, std and the CI bounds are NaN.

    Raises:
        ValueError: empty input or a non-finite value.
    """
    arr = _as_sample(values, "values")
    n = int(arr.size)
    mean = float(arr.mean())
    if n < 2:
        return {"mean": mean, "std": math.nan, "n": n, "ci_low": math.nan, "ci_high": math.nan}
    std = float(arr.std(ddof=1))
    half = float(_sp.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * std / math.sqrt(n)
    return {"mean": mean, "std": std, "n": n, "ci_low": mean - half, "ci_high": mean + half}


def paired(a: Dict[str, float], b: Dict[str, float]) -> Dict[str, float]:
    """Mean paired difference over the seeds both hold, its 95 % t-interval and the paired
    t-test's two-sided p-value.

    Seed i of every family trains on the same batches in the same order, so a family and
    conv are compared seed by seed: the seed-to-seed variation they share cancels.

    Args:
        a, b: seed → measurement (e.g. a family's and conv's test accuracy).

    Returns:
        ``{"diff", "ci_low", "ci_high", "p_value", "n"}``; the interval and p-value are NaN
        with fewer than two common seeds, the p-value also when every difference is equal.
    """
    seeds = sorted(set(a) & set(b))
    diffs = np.array([a[s] - b[s] for s in seeds], dtype=float)
    if diffs.size == 0:
        return {"diff": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan, "n": 0}
    stats = summarize(diffs)
    p_value = math.nan
    if diffs.size >= 2 and np.ptp(diffs) > 1e-12:  # equal differences (to rounding): no test
        p_value = float(_sp.ttest_1samp(diffs, 0.0).pvalue)
    return {"diff": stats["mean"], "ci_low": stats["ci_low"], "ci_high": stats["ci_high"], "p_value": p_value,
            "n": int(diffs.size)}


def bootstrap_best(values: Iterable[float], draws: int = 2000, seed: int = 0) -> Dict[str, float]:
    """Study-to-study spread of a search's best value, by bootstrap over its trials.

    As the Deep Learning Tuning Playbook does: resample the search's N trials with
    replacement, keep the best of each resample, and read the spread of those bests. It says
    how much the best validation accuracy would move if the same search were run again with
    other draws.

    Returns:
        ``{"median", "low", "high", "std", "n"}``: the bests' median, 5th and 95th percentiles
        and standard deviation (NaN without values).
    """
    values = list(values)
    if not values:
        return {"median": math.nan, "low": math.nan, "high": math.nan, "std": math.nan, "n": 0}
    arr = _as_sample(values, "values")
    rng = np.random.default_rng(seed)
    bests = rng.choice(arr, size=(draws, arr.size), replace=True).max(axis=1)
    return {"median": float(np.median(bests)), "low": float(np.percentile(bests, 5)),
            "high": float(np.percentile(bests, 95)), "std": float(bests.std(ddof=1)), "n": int(arr.size)}
