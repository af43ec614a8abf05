"""Summaries over seeds: mean, spread and a Student-t interval.

Seeds are few (3–10), so intervals use Student's t rather than a normal approximation.
"""

from __future__ import annotations

import math
from typing import Dict, Iterable

import numpy as np
from scipy import stats as _sp

#: Confidence of every interval the report prints.
CONFIDENCE = 0.95


def as_sample(values: Iterable[float], name: str) -> np.ndarray:
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
    arr = as_sample(values, "values")
    n = int(arr.size)
    mean = float(arr.mean())
    if n < 2:
        return {"mean": mean, "std": math.nan, "n": n, "ci_low": math.nan, "ci_high": math.nan}
    std = float(arr.std(ddof=1))
    half = float(_sp.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * std / math.sqrt(n)
    return {"mean": mean, "std": std, "n": n, "ci_low": mean - half, "ci_high": mean + half}
