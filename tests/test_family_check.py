"""Every registered family passes `wsbench check`'s conformance checks.

These are the checks the command runs (:mod:`bench.check`), not a copy of them, so what a
plugin author runs and what the project tests cannot drift apart. The tests add the option
combinations of the built-in families worth checking separately (trainable or fixed
centroids and bandwidths, per-feature centroids, position mixing, no bias) to the
configurations the checks draw from each family's search space. The cross-backend check runs
in test_cross_backend.py (one subprocess for every family).
"""

from __future__ import annotations

import functools

import pytest

from bench.check.cases import FamilyUnderCheck
from bench.check.outcome import OK
from bench.check.suite import FAMILY_CHECKS, run_check
from family_options import OPTIONS

#: Checks `make test` runs on JAX too: saving, loading and rebuilding a layer go through each
#: backend's own variables. (The others check formulas, shapes and gradients that the
#: cross-backend check and the JAX pass of the route tests cover there; on JAX they take minutes.)
EVERY_BACKEND = ("save_load", "get_config")


@functools.lru_cache(maxsize=None)
def under_check(name: str) -> FamilyUnderCheck:
    """The family with its cases, built once for every check of this module."""
    return FamilyUnderCheck(name, extra=OPTIONS.get(name, ()))


def passes(family_name: str, check: str) -> None:
    outcome = run_check(under_check(family_name), check)
    assert (outcome.family, outcome.check) == (family_name, check)
    assert outcome.status == OK, outcome.line()


@pytest.mark.parametrize("check", [c for c in FAMILY_CHECKS if c not in EVERY_BACKEND])
def test_family_passes_the_check(family_name, check):
    passes(family_name, check)


@pytest.mark.backends  # also run on JAX by `make test` (see conftest.py)
@pytest.mark.parametrize("check", EVERY_BACKEND)
def test_family_passes_the_check_on_every_backend(family_name, check):
    passes(family_name, check)


def test_the_options_are_among_the_configurations_checked(family_name):
    under = under_check(family_name)
    for options in OPTIONS.get(family_name, ()):
        assert options in under.configurations
    assert len(under.cases) == len(under.configurations) * 5
