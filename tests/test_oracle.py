"""Fair tuning by construction (bench.run.oracle): trial i has the same shared values for every
family, trial 0 is the plain recipe, the family's own values come from a stream of their own,
and a draw that cannot meet the budget is redrawn, never run or counted."""

from __future__ import annotations

import keras_tuner as kt
import pytest

from bench.data import load_dataset
from bench.run.config import BenchConfig
from bench.run.hypermodel import BudgetedHyperModel
from bench.run.oracle import CommonNumbersOracle
from bench.run.search_space import defaults, shared_hyperparameters
from layers import list_families

TRIALS = 6
SHARED = ("learning_rate", "kernel_size", "dropout")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def oracle(hypermodel, seed=0, feasible=None, sequence="halton"):
    return CommonNumbersOracle(shared=hypermodel.shared_space, family=hypermodel.family_space,
                               family_name=hypermodel.family, feasible=feasible or hypermodel.feasible,
                               choices=hypermodel.shared_choices(), seed=seed, max_trials=TRIALS, sequence=sequence,
                               objective=kt.Objective("val_accuracy", "max"))


def draws(hypermodel, **kwargs):
    made = oracle(hypermodel, **kwargs)
    return [made.draw(i) for i in range(TRIALS)]


@pytest.mark.parametrize("sequence", ["halton", "pseudo"])
def test_every_family_gets_the_same_shared_values_at_every_trial(digits, sequence):
    per_family = {f: draws(BudgetedHyperModel(f, digits.input_shape, 10, 10000, BenchConfig()), sequence=sequence)
                  for f in list_families()}
    for i in range(TRIALS):
        shared = {f: {k: d[i][0][k] for k in SHARED} for f, d in per_family.items()}
        assert len({tuple(sorted(v.items())) for v in shared.values()}) == 1, (i, shared)
    # The shared values do move from trial to trial, and the learning rates spread over their range.
    rates = [per_family["conv"][i][0]["learning_rate"] for i in range(1, TRIALS)]
    assert len(set(rates)) == TRIALS - 1 and min(rates) < 0.01 < max(rates)


def test_trial_zero_is_the_plain_recipe(digits):
    for family in list_families():
        hypermodel = BudgetedHyperModel(family, digits.input_shape, 10, 10000, BenchConfig())
        values, redraws, is_recipe = oracle(hypermodel).draw(0)
        assert is_recipe and redraws == 0
        assert values == {**defaults(shared_hyperparameters), **defaults(hypermodel.family_space)}


def test_family_values_come_from_their_own_stream(digits):
    """Another family's values (or another run seed) leave the shared values alone; another run
    seed moves them."""
    a = draws(BudgetedHyperModel("sisws", digits.input_shape, 10, 10000, BenchConfig()))
    b = draws(BudgetedHyperModel("lrlc", digits.input_shape, 10, 10000, BenchConfig()))
    c = draws(BudgetedHyperModel("sisws", digits.input_shape, 10, 10000, BenchConfig()), seed=1)
    assert [{k: d[0][k] for k in SHARED} for d in a] == [{k: d[0][k] for k in SHARED} for d in b]
    assert [d[0]["learning_rate"] for d in a[1:]] != [d[0]["learning_rate"] for d in c[1:]]
    assert len({d[0]["centroids"] for d in a[1:]}) > 1  # the family's own values vary too


def test_an_infeasible_draw_is_redrawn_not_run(digits):
    """With a budget check that refuses every other family draw, every trial the oracle hands
    out still meets it, keeps the trial's shared values, and says how many redraws it took."""
    hypermodel = BudgetedHyperModel("lrlc", digits.input_shape, 10, 10000, BenchConfig())
    refused = []

    def picky(values):
        ok = values["rank"] != 2 and hypermodel.feasible(values)
        if not ok:
            refused.append(values)
        return ok

    plain, strict = draws(hypermodel), draws(hypermodel, feasible=picky)
    assert refused, "the check never refused anything: the test would prove nothing"
    for i, ((values, _, _), (picked, redraws, _)) in enumerate(zip(plain, strict)):
        assert picky(picked) and picked["rank"] != 2
        if i:  # trial 0: the recipe (rank 2) is refused, so a drawn point replaces it
            assert {k: picked[k] for k in SHARED} == {k: values[k] for k in SHARED}
    assert sum(redraws for _, redraws, _ in strict) > 0


def test_a_kernel_size_no_configuration_can_meet_is_left_out_of_the_cell(digits):
    """locally_connected on 16×16 at 4,000 parameters fits a 3×3 kernel but not a 5×5 one."""
    hypermodel = BudgetedHyperModel("locally_connected", (16, 16, 1), 10, 4000, BenchConfig())
    reasons = hypermodel.kernel_reasons()
    assert reasons[3] == "" and reasons[5]
    assert hypermodel.shared_choices() == {"kernel_size": [3]}
    assert {values["kernel_size"] for values, _, _ in draws(hypermodel)} == {3}


def test_recorded_values_keep_only_the_hyperparameters_that_apply():
    # keras-tuner fills a conditional hyperparameter that an earlier trial declared into every
    # later trial with a random value (per_feature for a SISWS trial with fixed grid centroids);
    # what trials.csv and final.csv record drops it.
    from bench.run.search_space import active_values
    from layers import get_family

    declare = get_family("sisws").hyperparameters
    space = kt.HyperParameters()
    space.values.update({"centroids": "random4"})
    declare(space)  # a random-layout trial declares per_feature
    grid = {"centroids": "grid2x2", "local_normalization": True, "scale": 2.0}
    filled = space.copy()
    filled.values = dict(grid)
    filled.ensure_active_values()  # what keras-tuner's oracle does when it records a trial
    assert "per_feature" in filled.values
    assert active_values(declare, filled.values) == grid
    # Where it applies, it is kept: random centroids, or trainable ones on a grid.
    random4 = {"centroids": "random4", "local_normalization": True, "scale": 1.0, "per_feature": True}
    assert active_values(declare, random4) == random4
    trainable = dict(grid, per_feature=False)
    assert active_values(get_family("sisws_trainable").hyperparameters, trainable) == trainable
