"""The budget solver lands within tolerance with the most regular widths (brute force), or says why
not. That its count is the built model's is `wsbench check`'s param_count (backbones with each
head and padding) and budget checks (test_family_check.py)."""

from __future__ import annotations

import functools

import keras_tuner as kt
import pytest

from bench.run.backbone import backbone_param_count, block_widths
from bench.run.budget import last_block_range, solve_width
from bench.run.config import check_budget, check_tolerance
from layers import get_family, list_families

SHAPES = [(8, 8, 1), (16, 16, 3), (25, 25, 1)]
BUDGETS = [3000, 20000, 80000]


def family_choices(name):
    """The family's default choices, and (where it declares any) a non-default variant."""
    fam = get_family(name)
    default = fam.hyperparameters(kt.HyperParameters())
    variants = [default]
    hp = kt.HyperParameters()
    fam.hyperparameters(hp)
    other = {}
    for space in hp.space:
        values = getattr(space, "values", None)
        if values and len(values) > 1:
            other[space.name] = values[-1]
    if other:
        hp2 = kt.HyperParameters()
        for key, value in other.items():
            hp2.Fixed(key, value)
        variants.append(fam.hyperparameters(hp2))
    return variants


def candidates(family_name, shape, kernel_size, family_hp):
    """Every architecture the solver may pick, by brute force: (last-block deviation, params, widths).
    The list does not depend on the budget, so it is counted once per family, shape, kernel and
    choices (the counts are the slow part of this module)."""
    return _candidates(family_name, shape, kernel_size, tuple(sorted(family_hp.items())))


@functools.lru_cache(maxsize=None)
def _candidates(family_name, shape, kernel_size, family_hp_items, bases=range(1, 121)):
    out = []
    for base in bases:
        nominal = block_widths(base, 2)
        for last in last_block_range(base, 2):
            widths = (nominal[0], last)
            params = backbone_param_count(family_name, shape, 10, widths, kernel_size=kernel_size,
                                          family_hp=dict(family_hp_items))
            out.append((abs(last - nominal[1]) / nominal[1], params, widths))
    return tuple(out)


@pytest.mark.parametrize("family_name", list_families())
def test_solver_lands_within_tolerance_with_the_most_regular_widths_or_reports_infeasible(family_name):
    for shape in SHAPES:
        for budget in BUDGETS:
            for family_hp in family_choices(family_name):
                for kernel_size in (3, 5):
                    sol = solve_width(family_name, shape, 10, budget, tolerance=0.05, kernel_size=kernel_size,
                                      family_hp=family_hp)
                    landing = [c for c in candidates(family_name, shape, kernel_size, family_hp)
                               if abs(c[1] - budget) <= 0.05 * budget]
                    assert sol.feasible == bool(landing), (family_name, shape, budget, kernel_size, sol)
                    if sol.feasible:
                        assert abs(sol.params - budget) <= 0.05 * budget
                        assert sol.params == backbone_param_count(family_name, shape, 10, sol.widths,
                                                                  kernel_size=kernel_size, family_hp=family_hp)
                        # No landing architecture is more regular than the one chosen.
                        nominal_last = block_widths(sol.widths[0], 2)[1]
                        assert abs(sol.widths[1] - nominal_last) / nominal_last <= min(c[0] for c in landing) + 1e-12
                    else:
                        assert sol.reason


def test_a_budget_below_the_smallest_model_is_infeasible_with_a_reason():
    sol = solve_width("locally_connected", (25, 25, 1), 2, 500)
    assert not sol.feasible and sol.widths == (1, 1)  # the narrowest model, reported as such
    assert "even the narrowest model" in sol.reason and "500" in sol.reason


def test_the_last_block_moves_where_the_doubling_rule_cannot_land():
    """locally_connected on digits at 10,000 with 5×5 kernels: no w, 2w lands within ±5 %
    (3-6 gives 12,800 parameters, 2-4 gives 7,500); 3-4 does."""
    doubling = [c for c in candidates("locally_connected", (8, 8, 1), 5, {}) if c[0] == 0]
    assert not any(abs(params - 10000) <= 500 for _, params, _ in doubling)
    sol = solve_width("locally_connected", (8, 8, 1), 10, 10000, kernel_size=5)
    assert sol.feasible and sol.widths[1] != 2 * sol.widths[0] and sol.label == "-".join(map(str, sol.widths))


def test_a_tolerance_tighter_than_the_closest_architecture_makes_the_choice_infeasible():
    closest = min(abs(params - 5000) / 5000 for _, params, _ in candidates("locally_connected", (8, 8, 1), 3, {}))
    assert closest > 0  # nothing lands exactly; a tolerance below the closest miss must fail
    assert solve_width("locally_connected", (8, 8, 1), 10, 5000, tolerance=1.1 * closest).feasible
    tight = solve_width("locally_connected", (8, 8, 1), 10, 5000, tolerance=0.9 * closest)
    assert not tight.feasible and "no widths land within" in tight.reason
