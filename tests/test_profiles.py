"""Every named profile and study is a valid configuration (a typo in one would otherwise only
show after minutes of someone's run)."""

from __future__ import annotations

import dataclasses

import pytest

from bench.data import dataset_names
from bench.run.config import PROFILES, profile
from bench.run.protocol import Protocol
from bench.run.steps import START_STEPS
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
    study = STUDIES[name]
    base = profile(study.profile)
    for dataset in study.datasets:
        assert dataset in dataset_names()
        dataclasses.replace(base, dataset=dataset).validated()


def test_unknown_profile_is_refused_naming_the_accepted_ones():
    with pytest.raises(ValueError, match=r"profile 'nope' is not accepted: use one of \['default', 'quick', 'study'\]"):
        profile("nope")
