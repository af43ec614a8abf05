"""A real, small `wsbench bench` run end to end, and the same command interrupted.

One uninterrupted run, its cells in two worker processes (``--jobs 2``), is the reference for
the whole module: its files and schema, equal effort across families, every model on its
budget. The same command is also SIGKILLed at four different moments (inside a search while
two cells run side by side in workers, inside a final evaluation, between two families, while
the throughput stage times the models), rerun after each kill (in one process after the
first) and finally allowed to end.

The killed run's workers must die with it (none is left writing rows), and its tables must
then hold exactly the reference's rows: no duplicate, missing or truncated row, and, because
every trial and every final model is seeded by (run seed, trial id / seed), the same numbers
whether its cells ran in one process or in two. Last, an in-process run checks that the test
split is only touched by the final evaluation.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple

import numpy as np
import pandas as pd
import psutil
import pytest

from bench.store import BASELINE, FINAL, THROUGHPUT, TRIALS
from row_params import rows_against_models

pytestmark = pytest.mark.slow(seconds=150)  # real `wsbench bench` processes: the suite's longest module
FAMILIES = ["conv", "coordconv"]  # coordconv: a registered layer of its own, quick to trace
BUDGET = 3000
TRIALS_PER_CELL, SEEDS = 2, 2
RUN = "e2e"
ARGS = ["bench", "--profile", "quick", "--families", ",".join(FAMILIES), "--budgets", str(BUDGET), "--max-trials",
        str(TRIALS_PER_CELL), "--steps", "10", "--eval-every", "5", "--seeds", str(SEEDS), "--run-name", RUN]

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", WSBENCH_DISABLE_PLUGINS="1")
WAIT_S = 600  # bound on every wait; a quick run takes ~1-2 min on a busy 2-core machine
TABLES = {t.name: (list(t.columns), list(t.key)) for t in (TRIALS, FINAL, BASELINE, THROUGHPUT)}


class Bench:
    """A `wsbench bench` subprocess whose output lines are collected by a thread."""

    def __init__(self, results: Path, *extra: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.cli", *ARGS, *extra, "--results-dir", str(results)],
                                     env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: List[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()

    def output(self) -> str:
        return "".join(self.lines)[-4000:]

    def finish(self) -> str:
        try:
            self.proc.wait(timeout=WAIT_S)
        finally:
            self.kill()
        self.reader.join(timeout=10)
        assert self.proc.returncode == 0, self.output()
        return "".join(self.lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


def rows(run_dir: Path, table: str) -> pd.DataFrame:
    path = run_dir / f"{table}.csv"
    return pd.read_csv(path, dtype={"trial_id": str}) if path.exists() else pd.DataFrame(columns=TABLES[table][0])


def wait_until(bench: Bench, moment: Callable[[], bool], name: str) -> None:
    """Returns as soon as ``moment()`` holds (polled every 50 ms) while ``bench`` runs, within WAIT_S."""
    deadline = time.time() + WAIT_S
    while not moment():
        assert bench.proc.poll() is None, f"the run ended before the moment '{name}': {bench.output()}"
        assert time.time() < deadline, f"the moment '{name}' did not come within {WAIT_S} s: {bench.output()}"
        time.sleep(0.05)


def kill_when(bench: Bench, moment: Callable[[], bool], name: str) -> None:
    """SIGKILLs ``bench`` as soon as ``moment()`` holds."""
    wait_until(bench, moment, name)
    bench.kill()
    assert bench.proc.returncode == -signal.SIGKILL, f"'{name}': the run ended by itself before the kill"


def check_tables(run_dir: Path) -> Dict[str, pd.DataFrame]:
    """Every table parses with exactly the schema columns, ends with a newline, and has no
    duplicate key; returns them."""
    out = {}
    for table, (columns, key) in TABLES.items():
        path = run_dir / f"{table}.csv"
        if not path.exists():
            continue
        assert path.read_bytes().endswith(b"\n"), f"{path} ends mid-line"
        frame = rows(run_dir, table)
        assert list(frame.columns) == columns, path
        assert not frame.duplicated(key).any(), frame[frame.duplicated(key, keep=False)]
        out[table] = frame
    return out


def check_complete_rows(tables: Dict[str, pd.DataFrame]) -> None:
    """No truncated row: every value a finished row must carry is present."""
    trials, final, throughput = tables["trials"], tables["final"], tables["throughput"]
    done = trials[trials["status"] == "completed"]
    assert done[["run_id", "hp", "widths", "params", "val_accuracy", "val_loss", "steps", "wall_s"]].notna().all().all()
    assert trials[trials["status"] != "completed"]["reason"].notna().all()
    assert set(trials["status"]) <= {"completed", "failed", "infeasible"}
    done = final[final["status"] == "completed"]
    assert done[["hp", "params", "test_accuracy", "test_loss", "steps", "train_s"]].notna().all().all()
    assert throughput.drop(columns=["device"]).notna().all().all()


def keys(frame: pd.DataFrame, key: List[str]) -> List[tuple]:
    return sorted(map(tuple, frame[key].astype(str).values))


def counter(run_dir: Path) -> Callable[[str], int]:
    """table name -> its current row count in ``run_dir`` (0 before the file exists)."""
    return lambda table: len(rows(run_dir, table)) if (run_dir / f"{table}.csv").exists() else 0


def assert_same_rows_and_numbers(got_dir: Path, want_dir: Path) -> None:
    """Seeded by (run seed, trial id) and (run seed, seed index), every row of the trials,
    final and baseline tables is reproduced, once, with the same numbers."""
    for table, key, exact, close in (
            ("trials", list(TRIALS.key),
             ["trial_index", "status", "reason", "hp", "widths", "params", "steps", "best_step"],
             ["val_accuracy", "val_loss"]),
            ("final", list(FINAL.key), ["status", "hp", "widths", "params", "steps", "best_step"],
             ["test_accuracy", "test_loss"]),
            ("baseline", list(BASELINE.key), ["status", "hp", "widths", "params", "steps", "best_step"],
             ["test_accuracy", "test_loss"])):
        got = rows(got_dir, table).astype({k: str for k in key}).set_index(key).sort_index()
        want = rows(want_dir, table).astype({k: str for k in key}).set_index(key).sort_index()
        assert not got.index.duplicated().any(), table
        assert list(got.index) == list(want.index), table
        pd.testing.assert_frame_equal(got[exact], want[exact], check_dtype=False)
        np.testing.assert_allclose(got[close].to_numpy(float), want[close].to_numpy(float), rtol=0, atol=1e-6,
                                   err_msg=f"{table}: {got[close]} != {want[close]}")


class Runs(NamedTuple):
    resumed: Path  # the run killed at every moment of MOMENTS and resumed each time
    reference: Path  # the uninterrupted run of the same command, with --jobs 2
    states: Dict[str, Dict[str, int]]  # moment -> table -> rows right after that kill
    printed: str  # what the uninterrupted run printed
    workers: List[psutil.Process]  # the cell workers of the run killed with --jobs 2
    survivors: List[psutil.Process]  # those of them still alive 30 s after that kill


def cell_workers(bench: Bench) -> List[psutil.Process]:
    """The worker processes (multiprocessing spawn) that ``bench`` runs its cells in."""
    return [c for c in psutil.Process(bench.proc.pid).children() if "spawn_main" in " ".join(c.cmdline())]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    reference_dir = tmp_path_factory.mktemp("reference")
    killed_dir = tmp_path_factory.mktemp("killed")
    reference = Bench(reference_dir, "--jobs", "2")  # runs alongside the killed one to save wall time
    run = killed_dir / RUN
    count = counter(run)
    running: Dict[str, Bench] = {}
    moments = [
        # two cells side by side in workers (--jobs 2), the first trial written
        ("during a search", ["--jobs", "2"], lambda: count("trials") >= 1),
        # one process from here. conv's search is over: its seeds are training together, no final row written yet
        ("during the final evaluation", [], lambda: (rows(run, "trials")["family"] == "conv").sum() >= TRIALS_PER_CELL),
        # conv is completely recorded; coordconv's search is starting
        ("between families", [], lambda: count("final") >= SEEDS),
        # every model is saved; the throughput stage (all rows appended at once at its end) is timing them
        ("during throughput", [], lambda: "throughput: timing" in "".join(running["bench"].lines)),
    ]
    states, workers, survivors = {}, [], []
    try:
        for name, extra, moment in moments:
            bench = running["bench"] = Bench(killed_dir, *extra)
            if extra:  # the workers, as the moment comes
                wait_until(bench, moment, name)
                workers = cell_workers(bench)
            kill_when(bench, moment, name)
            if extra:
                survivors = psutil.wait_procs(workers, timeout=30)[1]
            tables = check_tables(run)  # consistent after every kill, too
            states[name] = {t: len(f) for t, f in tables.items()}
        Bench(killed_dir).finish()
        printed = reference.finish()
    finally:
        reference.kill()
    return Runs(run, reference_dir / RUN, states, printed, workers, survivors)


# -- the uninterrupted run -----------------------------------------------------------------------
def test_all_files_exist_and_follow_the_schema(runs):
    run_dir = runs.reference
    for name in ("run.json", "trials.csv", "final.csv", "baseline.csv", "throughput.csv"):
        assert (run_dir / name).is_file(), name
    meta = json.loads((run_dir / "run.json").read_text())
    for key in ("command", "config", "tuner", "dataset", "versions", "hardware", "git_commit", "started", "ended",
                "status"):
        assert key in meta, key
    assert meta["status"] == "complete"
    assert set(meta["versions"]) >= {"python", "tensorflow", "keras", "keras_tuner", "numpy"}
    assert set(meta["dataset"]["sizes"]) == {"train", "val", "test"}
    assert meta["config"]["families"] == FAMILIES and meta["config"]["seeds"] == SEEDS
    for table, (columns, _) in TABLES.items():
        assert list(pd.read_csv(run_dir / f"{table}.csv").columns) == columns, table
    for family in FAMILIES:
        assert (run_dir / "models" / f"{family}__{BUDGET}.keras").is_file()
    # The run ends by printing the accuracy table with every family.
    table = runs.printed[runs.printed.index("Test accuracy"):]
    for family in FAMILIES:
        assert family in table


def test_every_family_gets_the_same_effort_and_lands_on_the_budget(runs):
    trials = rows(runs.reference, "trials")
    counts = trials.groupby(["family", "budget"]).size()
    assert set(counts.index.get_level_values(0)) == set(FAMILIES)
    assert (counts == TRIALS_PER_CELL).all(), counts
    assert not trials.duplicated(["family", "budget", "trial_id"]).any()
    done = trials[trials["status"] == "completed"]
    assert len(done) > 0
    assert ((done["params"] - BUDGET).abs() <= 0.05 * BUDGET).all()
    assert done["val_accuracy"].between(0, 1).all()
    for hp in trials["hp"]:
        assert {"learning_rate", "kernel_size", "dropout"} <= set(json.loads(hp))
    final = rows(runs.reference, "final")
    completed = final[final["status"] == "completed"]
    assert (completed.groupby("family").size() == SEEDS).all()
    assert ((completed["params"] - BUDGET).abs() <= 0.05 * BUDGET).all()
    assert completed["test_accuracy"].between(0, 1).all()


def test_every_final_and_baseline_row_carries_its_models_parameter_count(runs):
    """params is the trainable parameter count of the model trained (the saved one, or the one the
    row's configuration and widths build), in the uninterrupted run and the resumed one."""
    for run_dir in (runs.reference, runs.resumed):
        problems, checked = rows_against_models(run_dir)
        assert checked >= len(FAMILIES) * SEEDS and not problems, problems


# -- killed and resumed ---------------------------------------------------------------------------
def test_every_kill_landed_in_its_stage(runs):
    states = runs.states
    assert states["during a search"].get("final", 0) == 0
    assert states["during the final evaluation"].get("final", 0) == 0  # the seeds' rows come together, at the end
    assert states["between families"]["final"] == SEEDS  # only conv's rows
    assert states["between families"]["trials"] <= TRIALS_PER_CELL + 1  # conv's trials, at most coordconv's first
    assert states["during throughput"]["final"] == len(FAMILIES) * SEEDS
    assert states["during throughput"].get("throughput", 0) == 0  # its rows are appended together, at its end


def test_resumed_tables_hold_the_same_rows_as_an_uninterrupted_run(runs):
    got, want = check_tables(runs.resumed), check_tables(runs.reference)
    assert set(got) == set(want) == set(TABLES)
    for table, (_, key) in TABLES.items():
        assert len(got[table]) == len(want[table]), table
        assert keys(got[table], key) == keys(want[table], key), table
    check_complete_rows(got)
    check_complete_rows(want)
    assert len(want["trials"]) == len(FAMILIES) * TRIALS_PER_CELL
    assert json.loads((runs.resumed / "run.json").read_text())["status"] == "complete"
    for family in FAMILIES:
        assert (runs.resumed / "models" / f"{family}__{BUDGET}.keras").is_file()


def test_resumed_trials_and_final_models_match_the_uninterrupted_run(runs):
    """Every number is reproduced, including those of the trials and final models that a kill
    interrupted and that were rerun."""
    assert_same_rows_and_numbers(runs.resumed, runs.reference)


def test_a_run_killed_with_two_jobs_leaves_no_worker_behind(runs):
    """--jobs 2 runs cells in two worker processes; SIGKILL the parent mid-search and its
    workers die with it. (The reference ran with --jobs 2 too: the resumed tables matching
    it, above, show that rows and numbers do not depend on how the cells were run.)"""
    assert len(runs.workers) == 2, runs.workers
    assert not runs.survivors, f"workers outlived the killed parent: {runs.survivors}"
    assert "2 cells at a time" in runs.printed


# -- the test split -------------------------------------------------------------------------------
def test_the_test_split_is_only_touched_by_the_final_evaluation(tmp_path, monkeypatch):
    """Every Keras call that receives the test images is the one predict() of the final
    evaluation (both seeds, trained as one program, at once), made after the cell's search has
    written all its trials."""
    import keras

    import bench.data
    from bench.run.config import BenchConfig
    from bench.run.runner import run_bench

    dataset = bench.data.load_dataset("digits")
    monkeypatch.setattr(bench.data, "load_dataset", lambda *a, **k: dataset)
    calls = []

    def spy(method):
        original = getattr(keras.Model, method)

        def wrapped(self, *args, **kwargs):
            given = list(args) + list(kwargs.values())
            given += [a for g in given if isinstance(g, (list, tuple)) for a in g]  # one input per seed
            arrays = [a for a in given if isinstance(a, np.ndarray)]
            val = kwargs.get("validation_data") or ()
            arrays += [a for a in val if isinstance(a, np.ndarray)]
            touches = any(np.shares_memory(a, dataset.x_test) or np.shares_memory(a, dataset.y_test) for a in arrays)
            trials_path = tmp_path / "leak" / "trials.csv"
            n_trials = len(pd.read_csv(trials_path)) if trials_path.exists() else 0
            calls.append((method, touches, n_trials))
            return original(self, *args, **kwargs)

        monkeypatch.setattr(keras.Model, method, wrapped)

    for method in ("fit", "evaluate", "predict"):
        spy(method)
    run_bench(BenchConfig(dataset="digits", families=("conv",), budgets=(3000,), max_trials=2, steps=10, eval_every=5, seeds=2, baseline_seeds=0,
                          run_name="leak", results_dir=str(tmp_path), throughput=False, jobs=1), ["test"])
    touching = [c for c in calls if c[1]]
    assert [c[0] for c in touching] == ["predict"]  # both seeds at once
    assert all(n == 2 for _, _, n in touching)  # after both trials were recorded
    assert sum(1 for c in calls if c[0] == "fit") == 2 + 1  # two trials, then both seeds as one program
