"""Every named profile and study is a valid configuration (a typo in one would otherwise only
show after minutes of someone's run)."""

from __future__ import annotations

import pytest

from bench.data import dataset_names
from bench.run.config import PROFILES, profile
from bench.run.protocol import Protocol
from bench.run.protocol import START_STEPS
from bench.study.command import STUDIES


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profile_validates_and_names_itself(name):
    config = profile(name).validated()
    assert config.profile == name
    protocol = Protocol.of(config, None if config.steps != "auto" else START_STEPS)
    assert protocol.steps % protocol.eval_every == 0 and protocol.eval_every % protocol.steps_per_execution == 0
    assert config.run_name == f"{name}-{config.dataset}"


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_study_runs_a_known_profile_on_registered_datasets(name):
    # Every run of the study validates, and conv (the reference) has a model at every budget of
    # every dataset at the depth the study gives it: without one there is no verdict to give.
    from bench.data import load_dataset
    from bench.run.cells import infeasible_cells

    study = STUDIES[name]
    profile(study.profile)
    assert set(study.per_dataset) <= set(study.datasets)
    for dataset in study.datasets:
        assert dataset in dataset_names()
        config = study.config(dataset, results_dir="results").validated()
        assert config.run_name == f"{study.prefix}-{dataset}" and config.dataset == dataset
        for key, value in study.per_dataset.get(dataset, {}).items():
            assert getattr(config, key) == value, (dataset, key)
        data = load_dataset(dataset, val_fraction=config.val_fraction, seed=config.seed)
        infeasible = infeasible_cells(config, data.input_shape, data.num_classes)
        assert not [cell for cell in infeasible if cell[0] == "conv"], dataset
        if name == "real":  # as the README and the study's description say
            assert sorted(infeasible) == [("locally_connected", b) for b in config.budgets if dataset != "digits"]


def test_unknown_profile_is_refused_naming_the_accepted_ones():
    with pytest.raises(ValueError, match=r"profile 'nope' is not accepted: use one of \['default', 'quick', 'study'\]"):
        profile("nope")
