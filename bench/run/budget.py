"""Equal parameter budgets: solve the backbone's widths so the model lands on a budget.

Width is never tuned. For each trial's other choices the solver picks the block widths whose
exact trainable parameter count (from the families' analytic formulas) is within ±tolerance
of the budget: the blocks have w, 2w, 4w, … filters, and the last block may move up to
:data:`LAST_BLOCK_SLACK` (±50 %) from its nominal width so that every family can land near
the budget, not only those whose count happens to step close to it. Among the widths that
land, the most regular architecture wins (the last block closest to its nominal width), then
the count closest to the budget. When none lands the choice is *infeasible*, with the reason,
never silently over or under budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple

from bench.run.backbone import backbone_param_count, block_widths

MAX_WIDTH = 4096
#: How far the last block may move from its nominal width (w·2^(depth−1)), as a fraction.
LAST_BLOCK_SLACK = 0.5


@dataclass(frozen=True)
class BudgetSolution:
    """The outcome of :func:`solve_width`.

    Attributes:
        feasible: whether ``params`` is within tolerance of the budget.
        widths: the chosen filters of every block; when infeasible, the closest ones (the
            narrowest model if even that is over).
        params: the exact trainable parameter count with ``widths``.
        reason: why it is infeasible ('' when feasible).
    """

    feasible: bool
    widths: Optional[Tuple[int, ...]]
    params: Optional[int]
    reason: str = ""

    @property
    def width(self) -> Optional[int]:
        """The first block's width (the base width w)."""
        return None if self.widths is None else self.widths[0]

    @property
    def label(self) -> str:
        """The widths as written in the tables, e.g. '12-25'."""
        return "" if self.widths is None else "-".join(str(w) for w in self.widths)


def last_block_range(base: int, depth: int) -> range:
    """The widths the last block may take for base width ``base``."""
    nominal = block_widths(base, depth)[-1]
    return range(max(1, math.ceil(nominal * (1 - LAST_BLOCK_SLACK))), math.floor(nominal * (1 + LAST_BLOCK_SLACK)) + 1)


def solve_width(family: str, input_shape: Sequence[int], num_classes: int, budget: int, *, tolerance: float = 0.05,
                depth: int = 2, kernel_size: int = 3, head: str = "gap", padding: str = "same",
                family_hp: Dict[str, Any] | None = None) -> BudgetSolution:
    """Finds block widths whose model has ``budget`` ± ``tolerance`` trainable parameters.

    The count grows with the base width, so bisection finds the base widths whose range of
    last-block widths can reach the tolerance band; only those few are tried in full.

    Returns:
        A :class:`BudgetSolution`; infeasible ones say how close the nearest widths came.
    """
    def count(widths: Tuple[int, ...]) -> int:
        return backbone_param_count(family, input_shape, num_classes, widths, depth=depth, kernel_size=kernel_size,
                                    head=head, padding=padding, family_hp=family_hp)

    def widths(base: int, last: int) -> Tuple[int, ...]:
        return block_widths(base, depth)[:-1] + (last,)

    def extremes(base: int) -> Tuple[int, int]:
        lasts = last_block_range(base, depth)
        return count(widths(base, lasts[0])), count(widths(base, lasts[-1]))

    low, high = budget * (1 - tolerance), budget * (1 + tolerance)
    narrowest = extremes(1)[0]
    if narrowest > high:
        return BudgetSolution(False, widths(1, last_block_range(1, depth)[0]), narrowest,
                              f"even the narrowest model (one filter) has {narrowest:,} parameters, over the budget "
                              f"{budget:,} +{tolerance:.0%}")
    # First base width whose widest last block reaches the band, and last one whose narrowest
    # last block is still under its top: only the bases in between can land.
    first = _first_base(lambda b: extremes(b)[1] >= low)
    last = _first_base(lambda b: extremes(b)[0] > high) - 1
    candidates = []
    for base in range(max(first, 1), max(last, first) + 1):
        nominal = block_widths(base, depth)[-1]
        for width in last_block_range(base, depth):
            params = count(widths(base, width))
            candidates.append((not low <= params <= high, abs(width - nominal) / nominal, abs(params - budget),
                               widths(base, width), params))
    if not candidates:
        base = max(first - 1, 1)
        candidates = [(True, 0.0, abs(count(widths(base, w)) - budget), widths(base, w), count(widths(base, w)))
                      for w in last_block_range(base, depth)]
    outside, _, _, best, params = min(candidates)
    if not outside:
        return BudgetSolution(True, best, params)
    return BudgetSolution(False, best, params, f"no widths land within ±{tolerance:.0%} of {budget:,}: the closest, "
                                               f"{'-'.join(map(str, best))}, give {params:,} parameters")


def _first_base(reached) -> int:
    """The smallest base width in 1..MAX_WIDTH for which ``reached`` holds (monotone), or
    MAX_WIDTH + 1 if none does."""
    lo, hi = 1, 1
    while hi <= MAX_WIDTH and not reached(hi):
        lo, hi = hi + 1, hi * 2
    hi = min(hi, MAX_WIDTH + 1)
    while lo < hi:
        mid = (lo + hi) // 2
        if reached(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo
