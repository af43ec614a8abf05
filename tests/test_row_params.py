"""In every committed reference run, each final and baseline row's ``params`` is the trainable
parameter count of the model it describes (the end-to-end runs check their own runs the same
way, with tests/row_params.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from row_params import rows_against_models

ROOT = Path(__file__).resolve().parents[1]
RUNS = sorted(p.parent.name for p in (ROOT / "reference").glob("*/run.json") if (p.parent / "models").is_dir())


def test_every_reference_run_is_checked():
    assert {"default-digits", "default-digits-seed1", "study-shapes-aligned", "study-shapes-anywhere"} <= set(RUNS)


@pytest.mark.parametrize("run", RUNS)
def test_every_row_has_the_parameter_count_of_its_model(run):
    problems, checked = rows_against_models(ROOT / "reference" / run)
    assert checked > 0
    assert not problems, "\n".join(problems)
