"""Seeds where a verdict is still open: a design whose error rates hold under that stopping.

Every cell starts with :data:`START` seeds. Seeds are then added in rounds, each doubling the
seeds of the comparisons still open (3 → 6 → 10 with a cap of 10), and of the reference at
that budget so that every comparison stays paired seed by seed. At every look before the
cap, an open comparison **stops for futility** when, taking its current estimate and spread
as the truth, the chance that it is decided at the cap (better, worse or equivalent, at the
first step of Holm's correction) is below :data:`FUTILITY`. Verdicts are only ever given on
the comparisons that reached the cap; one that stopped early is *inconclusive*, its p-values
enter Holm's correction as 1.

Why the error rates hold: a *better*/*worse* (or *equivalent*) verdict can only come from a
comparison whose test at the cap rejects, and at the cap the number of seeds is fixed in
advance, so each such test is exactly what it would be without the looks; stopping others
early only removes chances to reject. Futility stopping is the one kind of data-dependent
stopping that needs no spending of the error rate (it never rejects), which is why the
looks may use anything, signs and spreads alike. The price: no verdict before the cap. With
the exact sign-flip test under Holm's correction that costs little, as no comparison can
reach alpha / comparisons with fewer seeds than about log2(comparisons / alpha) + 1 anyway
(10 seeds for 15 comparisons at 0.05). Simulations in the tests show both error rates and
the power.

Every decision is a function of the first n seeds of each cell alone, replayed from the
first look, so a resumed run, or one with another ``--jobs``, makes the same decisions.
"""

from __future__ import annotations

from typing import List

import numpy as np
from scipy import stats as _sp

from bench.stats.signflip import smallest_p
from bench.stats.twoway import Evidence

#: Seeds every cell starts with.
START = 3
#: A comparison whose chance of being decided at the cap is below this stops adding seeds.
FUTILITY = 0.05


def looks(cap: int, start: int = START) -> List[int]:
    """The seed counts at which open comparisons are looked at: start, doubling, then the cap."""
    out = [min(start, cap)]
    while out[-1] < cap:
        out.append(min(cap, 2 * out[-1]))
    return out


def chance_decided(ev: Evidence, margin: float, cap: int, level: float) -> np.ndarray:
    """The chance that a comparison (or each of a batch) is decided with ``cap`` seeds if its
    current mean and spread were the truth: rejecting "no difference" (two-sided) or
    "outside ±margin" (both one-sided tests) at ``level`` with the t test of
    :mod:`bench.stats.verdicts`. 0 when ``cap`` seeds cannot reach ``level`` even with the
    exact sign-flip test; 1 when the spread is not known yet (keep adding)."""
    diff = np.asarray(ev.mean, dtype=float)
    if cap < 2 or smallest_p(cap) > level:
        return np.zeros(diff.shape)
    se, df = (np.asarray(v, dtype=float) for v in ev.se_with(cap))
    two, one = _sp.t.ppf(1 - level / 2, df), _sp.t.ppf(1 - level, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = diff / se
        # The final estimate ~ diff + se·T: decided if |estimate| > two·se, or if it lies within
        # ±(margin − one·se).
        differs = _sp.t.sf(two - z, df) + _sp.t.cdf(-two - z, df)
        within = np.maximum(0.0, _sp.t.cdf((margin - diff) / se - one, df) - _sp.t.cdf((-margin - diff) / se + one, df))
    chance = np.minimum(1.0, differs + within)
    return np.where(np.isfinite(se) & (se > 0) & np.isfinite(diff), chance, 1.0)


def advance(ev: Evidence, n: int, cap: int, margin: float, level: float):
    """The look at ``n`` seeds of a comparison (or a batch): (seeds after this round, chance).

    The seeds after the round are ``n`` for a comparison that stops (the cap is reached, or
    it is futile: chance below :data:`FUTILITY`), else the next look, ``min(cap, 2 n)``.
    """
    chance = chance_decided(ev, margin, cap, level)
    nxt = np.where((n >= cap) | (chance < FUTILITY), n, min(cap, 2 * n))
    return nxt, chance


def replay(evidence_at, cap: int, margin: float, level: float, start: int = START) -> dict:
    """Replays the looks of one comparison from the first, on its first n seeds at each.

    Args:
        evidence_at: n → the comparison's paired evidence over its first n seeds, or None
            while fewer than n are trained on either side.
        cap, margin, level: as for :func:`advance`.

    Returns:
        ``{"status", "seeds", "chance"}``: status ``'pending'`` (both sides need ``seeds``
        seeds before the next look: train them), ``'futile'`` (stopped at ``seeds``: a
        verdict by the cap had ``chance`` below :data:`FUTILITY`) or ``'cap'`` (reached it).
    """
    n = looks(cap, start)[0]
    while True:
        ev = evidence_at(n)
        if ev is None:
            return {"status": "pending", "seeds": n, "chance": float("nan")}
        if n >= cap:
            return {"status": "cap", "seeds": n, "chance": float("nan")}
        nxt, chance = advance(ev, n, cap, margin, level)
        if int(nxt) == n:
            return {"status": "futile", "seeds": n, "chance": float(chance)}
        n = int(nxt)
