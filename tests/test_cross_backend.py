"""A ``.keras`` file saved under one Keras backend loads under the other with equal outputs:
`wsbench check`'s backends check (:mod:`bench.check.backends`), run on every family with the
option combinations of family_options.py.

This process (the backend `make test` runs, TensorFlow) saves one small model per family
(every weight random); one subprocess under the other backend loads each, predicts, and saves
it again with new weights, which this process loads. Outputs must agree to float tolerance
both ways (the two backends' kernels sum in different orders, so bit equality is not expected).
"""

from __future__ import annotations

import pytest

import layers
from bench.check.backends import CrossBackend, other_backends
from bench.check.cases import FamilyUnderCheck
from bench.check.outcome import OK
from family_options import OPTIONS

pytestmark = pytest.mark.slow(seconds=30)


@pytest.fixture(scope="module")
def outcomes():
    if not other_backends():
        pytest.skip("only one Keras backend is installed: nothing to compare with (the dev extra installs JAX)")
    unders = [FamilyUnderCheck(name, extra=OPTIONS.get(name, ())) for name in layers.list_families()]
    cross = CrossBackend(unders)
    return cross, cross.outcomes()


def test_the_other_backend_ran_in_its_own_process(outcomes):
    cross, _ = outcomes
    assert cross.others and cross.here not in cross.others
    assert set(cross.procs) == set(cross.others) and all(p.returncode == 0 for p in cross.procs.values())
    assert not cross.directory.exists()  # its temporary files are gone


@pytest.mark.parametrize("family_name", layers.list_families())
def test_a_model_saved_on_either_backend_gives_the_same_outputs_on_the_other(outcomes, family_name):
    cross, found = outcomes
    outcome = found[family_name]
    assert outcome.status == OK, outcome.line()
    assert "both ways" in outcome.found and len(cross.stems[family_name]) == 1
