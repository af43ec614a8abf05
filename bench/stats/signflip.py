"""Exact sign-flip permutation tests over seeds.

Seed i of two families trains on the same batches, so under the hypothesis that the two are
interchangeable the paired difference of seed i is as likely to come out with either sign.
Flipping the signs of the n differences in all 2**n ways gives the exact null distribution of
their sum: no normality assumed, no variance estimated, and a p-value that cannot go below
2**(1 − n) two-sided (2**−n one-sided): with 3 seeds, 0.25. A test about a margin (is the
difference above −m?) flips the differences around −m instead of 0.

``scipy.stats.permutation_test(..., permutation_type='samples')`` computes the same p-values
(the tests check that it does on many inputs), one comparison at a time. The simulations
that prove the verdicts run tens of thousands of comparisons, so here the sign patterns are
enumerated once and applied to every comparison as one matrix product.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Dict

import numpy as np

#: Up to this many seeds every sign pattern is enumerated (2**16 patterns); above it, this many
#: random patterns plus the observed one are used (p-values then carry Monte Carlo error).
EXACT_UP_TO = 16
ALTERNATIVES = ("two-sided", "greater", "less")


@lru_cache(maxsize=None)
def sign_patterns(n: int) -> np.ndarray:
    """A (patterns, n) matrix of ±1: every pattern for n <= EXACT_UP_TO, else the identity
    pattern and 2**EXACT_UP_TO random ones (fixed seed, so a p-value is repeatable)."""
    if n <= EXACT_UP_TO:
        codes = np.arange(2 ** n)[:, None] >> np.arange(n)[None, :]
        return np.where(codes & 1, -1.0, 1.0)
    rng = np.random.default_rng(n)
    random = rng.choice([-1.0, 1.0], size=(2 ** EXACT_UP_TO, n))
    return np.vstack([np.ones((1, n)), random])


def smallest_p(n: int, alternative: str = "two-sided") -> float:
    """The smallest p-value the exact test can give with ``n`` paired seeds."""
    if n < 1:
        return 1.0
    return float(min(1.0, 2.0 ** (1 - n))) if alternative == "two-sided" else float(2.0 ** -n)


def sign_flip(diffs: np.ndarray, center=0.0) -> Dict[str, np.ndarray]:
    """Exact p-values of the hypothesis that ``diffs`` are symmetric about ``center``.

    Args:
        diffs: paired differences, shape (..., n): the last axis runs over seeds, any
            leading axes over independent comparisons.
        center: the value the differences are symmetric about under the hypothesis (0 for
            "no difference", ∓margin for the two halves of an equivalence test); a scalar
            or an array broadcasting against ``diffs[..., 0]``.

    Returns:
        ``{"greater", "less", "two-sided"}`` → p-values of shape ``diffs.shape[:-1]``:
        the share of sign patterns whose sum is at least (at most; at least as far from 0 in
        either direction, as twice the smaller one-sided p, capped at 1) the observed one.
    """
    x = np.asarray(diffs, dtype=float) - np.asarray(center, dtype=float)[..., None]
    n = x.shape[-1]
    patterns = sign_patterns(n)
    observed = x.sum(axis=-1)
    null = x @ patterns.T  # (..., patterns)
    # Sums of whole counts tie exactly; the tolerance absorbs float error in shifted ones.
    tol = 1e-9 * np.maximum(1.0, np.abs(observed))[..., None]
    greater = (null >= observed[..., None] - tol).mean(axis=-1)
    less = (null <= observed[..., None] + tol).mean(axis=-1)
    return {"greater": greater, "less": less, "two-sided": np.minimum(1.0, 2 * np.minimum(greater, less))}
