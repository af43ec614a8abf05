"""`--seeds auto` killed and resumed gives the tables of an uninterrupted run.

A small adaptive run (conv and coordconv at one budget, seeds added where the verdict is open,
up to 6) is SIGKILLed inside the round of added seeds, resumed, and allowed to end; an
uninterrupted run of the same command runs beside it. Every decision to add seeds is a
function of stored rows, so the resumed run, which decides again from the rows the killed one
left, must hold exactly the uninterrupted run's rows and numbers, with no seed lost or trained
twice. (A kill inside the first seeds is a kill inside a fixed-seeds final evaluation, the
same code: test_bench_e2e kills a run there.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_bench_e2e import Bench, assert_same_rows_and_numbers, check_tables, counter, kill_when

pytestmark = pytest.mark.slow(seconds=90)
RUN = "adaptive"
ARGS = ["--families", "conv,coordconv", "--budgets", "3000", "--max-trials", "1", "--steps", "20", "--eval-every", "10",
        "--seeds", "auto", "--max-seeds", "6", "--margin", "20", "--baseline-seeds", "0", "--no-throughput",
        "--run-name", RUN]


def test_an_adaptive_run_killed_inside_the_added_seeds_resumes_to_the_uninterrupted_rows(tmp_path: Path):
    reference = Bench(tmp_path / "reference", *ARGS)
    count = counter(tmp_path / "killed" / RUN)
    try:
        # the first seeds of both families are written and the round of added seeds has begun writing.
        kill_when(Bench(tmp_path / "killed", *ARGS), lambda: count("final") > 6, "inside the added seeds")
        Bench(tmp_path / "killed", *ARGS).finish()
        out = reference.finish()
    finally:
        reference.kill()
    assert "--seeds auto: 6 more seeds" in out, out  # the comparison was open after 3 seeds: a round ran
    got, want = tmp_path / "killed" / RUN, tmp_path / "reference" / RUN
    tables = check_tables(got)
    assert len(tables["final"]) == 12 and not tables["final"].duplicated(["family", "seed"]).any()
    assert_same_rows_and_numbers(got, want)
