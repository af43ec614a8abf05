"""Uncertainty of final accuracies: mean, spread, a t-based 95 % CI, and Welch's test.

Seeds are few (3–5), so the CI uses Student's t rather than a normal approximation, and
families are compared with Welch's t-test, which does not assume equal variances.
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


def welch(a: Iterable[float], b: Iterable[float]) -> Dict[str, float]:
    """Difference of means and Welch's two-sided t-test p-value.

    Args:
        a, b: the two samples (e.g. a family's and conv's seed accuracies).

    Returns:
        ``{"diff": mean(a) − mean(b), "p_value"}``. The p-value is NaN when either sample
        has fewer than two values or both have zero variance (the test is undefined).

    Raises:
        ValueError: an empty sample or a non-finite value.
    """
    xa, xb = _as_sample(a, "a"), _as_sample(b, "b")
    diff = float(xa.mean() - xb.mean())
    if xa.size < 2 or xb.size < 2 or (xa.var(ddof=1) == 0 and xb.var(ddof=1) == 0):
        return {"diff": diff, "p_value": math.nan}
    result = _sp.ttest_ind(xa, xb, equal_var=False)
    return {"diff": diff, "p_value": float(result.pvalue)}
