"""Equal parameter budgets: solve the backbone width that lands on a budget.

Width is never tuned. For each trial's other choices the solver finds the base width whose
exact trainable parameter count (from the families' analytic formulas) is closest to the
budget, and accepts it only within ±tolerance. Otherwise the choice is *infeasible*, with
the reason, never silently over or under budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence

from bench.run.backbone import backbone_param_count

MAX_WIDTH = 4096
WIDTH_STEP = 0.25  # the solver's grid of base widths: 1, 1.25, 1.5, …


@dataclass(frozen=True)
class BudgetSolution:
    """The outcome of :func:`solve_width`.

    Attributes:
        feasible: whether ``params`` is within tolerance of the budget.
        width: the chosen base width (closest to the budget, a multiple of ``WIDTH_STEP``),
            or None if even width 1 is over.
        params: the exact trainable parameter count at ``width``.
        reason: why it is infeasible ('' when feasible).
    """

    feasible: bool
    width: Optional[float]
    params: Optional[int]
    reason: str = ""


def solve_width(family: str, input_shape: Sequence[int], num_classes: int, budget: int, *, tolerance: float = 0.05,
                depth: int = 2, kernel_size: int = 3, head: str = "gap",
                family_hp: Dict[str, Any] | None = None) -> BudgetSolution:
    """Finds the base width whose model has ``budget`` ± ``tolerance`` trainable parameters.

    The count never decreases as the width grows, so a bisection over the grid of widths
    (steps of ``WIDTH_STEP``) finds the last one at or under the budget; it or the next
    one is the closest.

    Returns:
        A :class:`BudgetSolution`; infeasible ones say how close the nearest widths came.
    """
    def count(step: int) -> int:
        return backbone_param_count(family, input_shape, num_classes, step * WIDTH_STEP, depth=depth,
                                    kernel_size=kernel_size, head=head, family_hp=family_hp)

    first, last = int(round(1 / WIDTH_STEP)), int(round(MAX_WIDTH / WIDTH_STEP))
    low_count = count(first)
    if low_count > budget * (1 + tolerance):
        return BudgetSolution(False, None, low_count,
                              f"even width 1 has {low_count:,} parameters, over the budget {budget:,} "
                              f"+{tolerance:.0%}")
    lo, hi = first, first + 1
    while count(hi) <= budget and hi < last:
        lo, hi = hi, min(first + 2 * (hi - first + 1), last)
    while hi - lo > 1:  # invariant: count(lo) <= budget < count(hi), or hi is the cap
        mid = (lo + hi) // 2
        if count(mid) <= budget:
            lo = mid
        else:
            hi = mid
    _, step = min((abs(count(s) - budget), s) for s in (lo, hi))
    params = count(step)
    if abs(params - budget) <= tolerance * budget:
        return BudgetSolution(True, step * WIDTH_STEP, params)
    return BudgetSolution(False, step * WIDTH_STEP, params,
                          f"no width lands within ±{tolerance:.0%} of {budget:,}: width {lo * WIDTH_STEP:g} gives "
                          f"{count(lo):,}, width {hi * WIDTH_STEP:g} gives {count(hi):,} parameters")
