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


def test_appending_leaves_no_lock_file_and_the_trial_column_reads_back_as_text(tmp_path):
    """Tables are locked through their directory; final.csv's trial column keeps '0' beside a
    cell without a model (pandas would read the whole column as floats: 0.0)."""
    run = RunDir(tmp_path)
    run.append("final", [dict(final_row(0), trial="0")])
    run.append("final", [final_row("", status="failed", budget=10000)])
    run.write_run({"status": "running"})
    run.update_run(status="complete")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final.csv", "run.json"]
    assert run.read("final")["trial"].tolist() == ["0", ""]
    assert "\n" + "r,digits,conv,3000,0,completed,,0," in (tmp_path / "final.csv").read_text()


def test_rows_appended_after_a_row_without_a_seed_keep_their_seed_as_written(tmp_path):
    """A cell without a model (infeasible, failed) written first leaves the seed column empty;
    the seeds appended after it must stay '0', not become '0.0'."""
    run = RunDir(tmp_path)
    run.append("final", [final_row("", status="failed", budget=10000)])
    run.append("final", [final_row(0), final_row(1)])
    assert run.read("final")["seed"].tolist() == ["", "0", "1"]
    assert ",3000,0,completed," in (tmp_path / "final.csv").read_text()


def test_discarded_rows_are_gone_and_the_others_kept(tmp_path):
    run = RunDir(tmp_path)
    run.append("final", [final_row(0), final_row(1), final_row("", status="failed", budget=10000)])
    assert run.discard("final", lambda frame: frame["status"] == "failed") == 1
    assert run.keys("final") == {("conv", 3000, "0"), ("conv", 3000, "1")}
    assert run.discard("final", lambda frame: frame["status"] == "failed") == 0
    assert run.discard("trials", lambda frame: frame["status"] == "failed") == 0  # no such table: nothing to do
    assert len(run.append("final", [final_row("", status="completed", budget=10000)])) == 1  # written again
