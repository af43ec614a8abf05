"""The budget solver lands within tolerance, checked against real models, or says why not."""

from __future__ import annotations

import keras_tuner as kt
import numpy as np
import pytest

from bench.run.backbone import backbone_param_count, build_backbone
from bench.run.budget import WIDTH_STEP, solve_width
from bench.run.config import check_budget, check_tolerance
from layers import get_family, list_families

SHAPES = [(8, 8, 1), (16, 16, 3), (25, 25, 1)]
BUDGETS = [3000, 20000, 80000]


def trainable(model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


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


@pytest.mark.parametrize("family_name", list_families())
def test_solver_lands_within_tolerance_or_reports_infeasible(family_name):
    for shape in SHAPES:
        for budget in BUDGETS:
            for family_hp in family_choices(family_name):
                for kernel_size in (3, 5):
                    sol = solve_width(family_name, shape, 10, budget, tolerance=0.05, kernel_size=kernel_size,
                                      family_hp=family_hp)
                    if sol.feasible:
                        assert abs(sol.params - budget) <= 0.05 * budget
                        assert sol.params == backbone_param_count(family_name, shape, 10, sol.width,
                                                                  kernel_size=kernel_size, family_hp=family_hp)
                    else:
                        assert sol.reason
                        if sol.width is not None:
                            # Neither neighbour on the width grid lands inside the band either.
                            for w in (sol.width - WIDTH_STEP, sol.width + WIDTH_STEP):
                                if w >= 1:
                                    n = backbone_param_count(family_name, shape, 10, w, kernel_size=kernel_size,
                                                             family_hp=family_hp)
                                    assert abs(n - budget) > 0.05 * budget


@pytest.mark.parametrize("family_name", list_families())
@pytest.mark.parametrize("head", ["gap", "flatten"])
def test_solved_width_builds_a_model_with_exactly_that_many_trainable_parameters(family_name, head):
    for shape, budget in [((8, 8, 1), 5000), ((16, 16, 3), 20000)]:
        family_hp = family_choices(family_name)[-1]
        sol = solve_width(family_name, shape, 7, budget, head=head, family_hp=family_hp)
        assert sol.feasible, sol.reason
        model = build_backbone(family_name, shape, 7, sol.width, head=head, family_hp=family_hp)
        assert trainable(model) == sol.params


def test_a_budget_below_the_smallest_model_is_infeasible_with_a_reason():
    sol = solve_width("locally_connected", (25, 25, 1), 2, 500)
    assert not sol.feasible and sol.width is None
    assert "even width 1 has" in sol.reason and "500" in sol.reason


def test_a_tolerance_tighter_than_the_closest_width_makes_the_choice_infeasible():
    loose = solve_width("locally_connected", (8, 8, 1), 10, 5000, tolerance=0.2)
    assert loose.feasible
    miss = abs(loose.params - 5000) / 5000
    assert miss > 0  # the closest width misses by a little; a tolerance below that must fail
    tight = solve_width("locally_connected", (8, 8, 1), 10, 5000, tolerance=0.9 * miss)
    assert not tight.feasible
    assert tight.width == loose.width and "no width lands within" in tight.reason


@pytest.mark.parametrize("bad", [0, -5, "abc", 1.5, None, float("inf"), float("nan")])
def test_bad_budget_is_refused_by_name(bad):
    with pytest.raises(ValueError, match=repr(bad).replace("(", r"\(")):
        check_budget(bad)


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, "x"])
def test_tolerance_outside_zero_one_is_refused(bad):
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        check_tolerance(bad)
