"""bench.store: a run's tables keep one row per key across reads and writes, in every process."""

from __future__ import annotations

import pytest

from bench.store import FINAL, TRIALS, ResultsError, RunDir
from bench.store.atomic import write_atomic


def final_row(seed, status="completed", budget=3000):
    return {"run_id": "r", "dataset": "digits", "family": "conv", "budget": budget, "seed": seed, "status": status,
            "reason": "", "best_hp": "", "width": None, "params": None, "test_accuracy": None, "test_loss": None,
            "epochs": None, "train_s": None}


def test_a_row_without_a_seed_is_not_written_twice(tmp_path):
    """An infeasible cell's final row has no seed (''); read back, its key must still match."""
    row = final_row("", status="infeasible")
    assert len(RunDir(tmp_path).append("final", [row])) == 1
    assert RunDir(tmp_path).append("final", [row]) == []
    assert len(RunDir(tmp_path).read("final")) == 1


def test_keys_read_back_equal_the_keys_written(tmp_path):
    run = RunDir(tmp_path)
    run.append("final", [final_row(0), final_row(1, budget=10000)])
    run.append("trials", [{"run_id": "r", "dataset": "d", "family": "conv", "budget": 3000, "trial_index": 1,
                           "trial_id": "07", "status": "completed", "reason": "", "hp": "{}"}])
    assert run.keys("final") == {("conv", 3000, "0"), ("conv", 10000, "1")}
    assert run.keys("trials") == {("conv", 3000, "07")}  # a padded trial id keeps its zero
    assert run.read("final")["budget"].tolist() == [3000, 10000]
    assert list(run.read("final").columns) == list(FINAL.columns)


def test_a_missing_table_reads_empty_and_require_names_it(tmp_path):
    run = RunDir(tmp_path)
    assert run.read("trials").empty and list(run.read("trials").columns) == list(TRIALS.columns)
    with pytest.raises(ResultsError, match=r"trials\.csv.*is missing: run it first"):
        run.require("trials", hint="run it first")


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old\n")

    def fail(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, fail)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]
