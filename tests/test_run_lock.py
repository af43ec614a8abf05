"""One writer per run: a run directory is held by an exclusive lock for the whole run, a
second process on it is refused naming the holder, and a killed holder leaves no stale lock."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

from bench.cli import main
from bench.store import RunDir, RunInUse
from bench_process import finish, start, table, wait_for_rows
from results_fixture import copy_fixture_run

RUN = "locked"
ARGS = ["bench", "--profile", "quick", "--families", "conv", "--budgets", "3000", "--max-trials", "2", "--steps", "10", "--eval-every", "5", "--seeds", "1", "--no-throughput", "--run-name", RUN]


def test_a_held_run_refuses_a_second_writer_naming_the_holder(tmp_path):
    run = RunDir(tmp_path / "r")
    with run.writer("first command"):
        with pytest.raises(RunInUse) as refused:
            with RunDir(tmp_path / "r").writer("second"):
                pass
        assert run.holder()["pid"] == os.getpid()
    message = str(refused.value)
    assert f"pid {os.getpid()}" in message and socket.gethostname() in message and "'r'" in message
    assert "rerun this command to resume" in message
    assert run.holder() is None  # released with the block
    with run.writer("again"):  # and free to take again
        pass


def test_report_on_a_run_in_progress_says_so_and_throughput_refuses(tmp_path, capsys):
    run_dir = copy_fixture_run(tmp_path)
    with RunDir(run_dir).writer("wsbench bench (the test holds the lock)"):
        assert main(["report", str(run_dir)]) == 0
        err = capsys.readouterr().err
        assert "is in progress" in err and f"pid {os.getpid()}" in err
        assert "This run is in progress" in (run_dir / "report.md").read_text()
        before = (run_dir / "throughput.csv").read_bytes()
        assert main(["throughput", str(run_dir), "--repeats", "1"]) == 2
        err = capsys.readouterr().err
        assert "being written by another wsbench process" in err and f"kill {os.getpid()}" in err
        assert (run_dir / "throughput.csv").read_bytes() == before


@pytest.mark.slow(seconds=40)
def test_two_identical_commands_at_once_exactly_one_writes(tmp_path):
    procs = [start(*ARGS, results_dir=tmp_path) for _ in range(2)]
    outs = [finish(p) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], outs
    refused = outs[[p.returncode for p in procs].index(2)]
    winner = procs[[p.returncode for p in procs].index(0)]
    assert f"run '{RUN}'" in refused and f"pid {winner.pid}" in refused and socket.gethostname() in refused
    trials, final = table(tmp_path / RUN, "trials"), table(tmp_path / RUN, "final")
    assert len(trials) == 2 and not trials.duplicated(["family", "budget", "trial_id"]).any()
    assert len(final) == 1 and not final.duplicated(["family", "budget", "seed"]).any()


@pytest.mark.slow(seconds=40)
def test_a_killed_holder_leaves_no_lock_and_the_run_resumes_at_once(tmp_path):
    first = start(*ARGS, results_dir=tmp_path)
    wait_for_rows(tmp_path / RUN / "trials.csv", 1, first)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert RunDir(tmp_path / RUN).holder() is None
    resumed = start(*ARGS, results_dir=tmp_path)
    out = finish(resumed)
    assert resumed.returncode == 0, out
    trials, final = table(tmp_path / RUN, "trials"), table(tmp_path / RUN, "final")
    assert len(trials) == 2 and not trials.duplicated(["family", "budget", "trial_id"]).any()
    assert list(final["status"]) == ["completed"]
