"""The smallest difference a run can see, and how many seeds would bring it to the margin.

For a comparison with n seeds, the difference detectable with 80 % power is the one at which
the t test of :mod:`bench.stats.verdicts` (standard error and degrees of freedom over seeds
and test images, :mod:`bench.stats.twoway`) rejects "no difference" four times in five at the level the first step of
Holm's correction asks (alpha / comparisons, the strictest): found from the noncentral t
distribution. With so few seeds that even the exact sign-flip test cannot reach that level
(2**(1 − n) > alpha / comparisons), no difference is detectable at all: infinity.

The standard error is projected to other seed counts as the comparison's own
(:meth:`bench.stats.twoway.Evidence.se_with`): the image term does not shrink with seeds, so a
test split too small for the margin is said to be so (no seed count suffices).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
from scipy import optimize
from scipy import stats as _sp

from bench.stats.signflip import smallest_p
from bench.stats.twoway import Evidence

POWER = 0.8
#: Seed counts searched for "seeds needed" (beyond it: say so).
MAX_SEEDS_SEARCHED = 200


def power_of(diff: float, se: float, df: float, level: float) -> float:
    """Power of the two-sided t test (``df`` degrees of freedom) at ``level`` for a true ``diff``."""
    if df < 1 or se <= 0:
        return math.nan
    crit = _sp.t.ppf(1 - level / 2, df)
    nc = abs(diff) / se
    # Far in a tail scipy's noncentral t can return NaN for what is ~0.
    return float(np.nan_to_num(_sp.nct.sf(crit, df, nc)) + np.nan_to_num(_sp.nct.cdf(-crit, df, nc)))


def detectable(ev: Evidence, level: float, n: Optional[int] = None, power: float = POWER) -> float:
    """The smallest difference (a fraction) detected with ``power`` at ``level`` with ``n``
    seeds (default: the comparison's own); inf when n seeds cannot reach ``level`` at all, NaN
    when the spread is unknown (fewer than 2 seeds)."""
    n = ev.n if n is None else n
    if n < 2 or smallest_p(n) > level:
        return math.inf
    se, df = (float(np.asarray(v)) for v in ev.se_with(n))
    if not math.isfinite(se):
        return math.nan
    if se == 0:
        return 0.0
    high = 2 * (_sp.t.ppf(1 - level / 2, df) + 5) * se  # power ~1 there; the noncentral t stays finite
    return float(optimize.brentq(lambda d: power_of(d, se, df, level) - power, 1e-12 * se, high))


def seeds_needed(ev: Evidence, target: float, level: float, power: float = POWER) -> Optional[int]:
    """The fewest seeds whose detectable difference is at most ``target``; None when no count
    up to :data:`MAX_SEEDS_SEARCHED` is enough (the test images alone may be too few)."""
    if not np.isfinite(np.asarray(ev.seed_var)).all() or detectable(ev, level, MAX_SEEDS_SEARCHED, power) > target:
        return None
    low, high = 1, MAX_SEEDS_SEARCHED  # detectable(high) <= target < detectable(low): it falls with n
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if detectable(ev, level, mid, power) <= target else (mid, high)
    return high
