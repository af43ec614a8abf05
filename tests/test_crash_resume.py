"""Crash-safe resume: one `wsbench bench --profile quick` run is SIGKILLed at four different
moments (inside a search, inside a final evaluation, between two families, inside the
throughput stage), rerun with the same command after each kill, and finally allowed to end.
Its tables must then hold exactly the rows of an uninterrupted run of the same command:
no duplicate, missing or truncated row, and, because every trial and every final model is
seeded by (run seed, trial id / seed), the same numbers.
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
from typing import Callable, Dict, List

import numpy as np
import pandas as pd
import pytest

from bench.store import BASELINE, FINAL, THROUGHPUT, TRIALS

pytestmark = pytest.mark.slow  # real `wsbench bench` processes
FAMILIES = ["conv", "sisws"]
SEEDS = 2
RUN = "crash"
ARGS = ["bench", "--profile", "quick", "--families", ",".join(FAMILIES), "--budgets", "3000", "--max-trials", "2",
        "--steps", "10", "--eval-every", "5", "--seeds", str(SEEDS), "--run-name", RUN]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", WSBENCH_DISABLE_PLUGINS="1")
WAIT_S = 600  # bound on every wait; a quick run takes ~1-2 min on a busy 2-core machine
TABLES = {t.name: (list(t.columns), list(t.key)) for t in (TRIALS, FINAL, BASELINE, THROUGHPUT)}


class Bench:
    """A `wsbench bench` subprocess whose output lines are collected by a thread."""

    def __init__(self, results: Path):
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.cli", *ARGS, "--results-dir", str(results)],
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


def kill_when(bench: Bench, moment: Callable[[], bool], name: str) -> None:
    """SIGKILLs ``bench`` as soon as ``moment()`` holds (polled every 50 ms), within WAIT_S."""
    deadline = time.time() + WAIT_S
    while not moment():
        assert bench.proc.poll() is None, f"the run ended before the moment '{name}': {bench.output()}"
        assert time.time() < deadline, f"the moment '{name}' did not come within {WAIT_S} s: {bench.output()}"
        time.sleep(0.05)
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


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(interrupted run dir, uninterrupted run dir, states seen right after each kill)."""
    reference_dir = tmp_path_factory.mktemp("reference")
    killed_dir = tmp_path_factory.mktemp("killed")
    reference = Bench(reference_dir)  # runs alongside the killed one to save wall time
    run = killed_dir / RUN
    count = lambda table: len(rows(run, table)) if (run / f"{table}.csv").exists() else 0  # noqa: E731
    moments = [
        # inside conv's search: its first trial is written, the second is training
        ("during a search", lambda: count("trials") >= 1),
        # conv's first final model is saved and its row written; the second seed is training
        ("during the final evaluation", lambda: count("final") >= 1),
        # conv is completely recorded; sisws's search is starting
        ("between families", lambda: count("final") >= SEEDS),
        # conv's throughput row is written; sisws's model is being measured
        ("during throughput", lambda: count("throughput") >= 1),
    ]
    states = {}
    try:
        for name, moment in moments:
            kill_when(Bench(killed_dir), moment, name)
            tables = check_tables(run)  # consistent after every kill, too
            states[name] = {t: len(f) for t, f in tables.items()}
        Bench(killed_dir).finish()
        reference.finish()
    finally:
        reference.kill()
    return run, reference_dir / RUN, states


def test_every_kill_landed_in_its_stage(runs):
    _, _, states = runs
    assert states["during a search"].get("final", 0) == 0
    assert states["during the final evaluation"]["final"] < SEEDS
    assert states["between families"]["final"] == SEEDS  # only conv's rows
    assert states["between families"]["trials"] <= 2 + 1  # conv's 2 trials, at most sisws's first
    assert states["during throughput"]["final"] == len(FAMILIES) * SEEDS
    assert states["during throughput"]["throughput"] < len(FAMILIES)


def test_resumed_tables_hold_the_same_rows_as_an_uninterrupted_run(runs):
    resumed, reference, _ = runs
    got, want = check_tables(resumed), check_tables(reference)
    assert set(got) == set(want) == set(TABLES)
    for table, (_, key) in TABLES.items():
        assert len(got[table]) == len(want[table]), table
        assert keys(got[table], key) == keys(want[table], key), table
    check_complete_rows(got)
    check_complete_rows(want)
    assert len(want["trials"]) == len(FAMILIES) * 2
    assert json.loads((resumed / "run.json").read_text())["status"] == "complete"
    for family in FAMILIES:
        assert (resumed / "models" / f"{family}__3000.keras").is_file()


def test_resumed_trials_and_final_models_match_the_uninterrupted_run(runs):
    """Seeded by (run seed, trial id) and (run seed, seed index), every number is reproduced,
    including those of the trials and final models that a kill interrupted and that were rerun."""
    resumed, reference, _ = runs
    for table, key, exact, close in (
            ("trials", list(TRIALS.key), ["trial_index", "status", "reason", "hp", "widths", "params", "steps"],
             ["val_accuracy", "val_loss"]),
            ("final", list(FINAL.key), ["status", "hp", "widths", "params", "steps"], ["test_accuracy", "test_loss"]),
            ("baseline", list(BASELINE.key), ["status", "hp", "widths", "params", "steps"],
             ["test_accuracy", "test_loss"])):
        got = rows(resumed, table).astype({k: str for k in key}).set_index(key).sort_index()
        want = rows(reference, table).astype({k: str for k in key}).set_index(key).sort_index()
        pd.testing.assert_frame_equal(got[exact], want[exact], check_dtype=False)
        np.testing.assert_allclose(got[close].to_numpy(float), want[close].to_numpy(float), rtol=0, atol=1e-6,
                                   err_msg=f"{table}: {got[close]} != {want[close]}")
