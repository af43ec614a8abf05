"""Running family × budget cells side by side in local worker processes (``--jobs N``).

A cell (one search and its final evaluation) shares nothing with another: it has its own
keras-tuner project, its own seeds, and rows keyed by family and budget that
:class:`bench.store.RunDir` appends under a file lock. On small data most of a trial is
TensorFlow tracing, which is single-threaded Python, so on an N-core machine N processes
each taking the next cell from a queue do close to N times the work of one.
Throughput is still measured afterwards by the parent, one model at a time.

Workers are spawned, never forked (TensorFlow's runtime threads do not survive a fork),
import TensorFlow once, and die with the parent: a killed run must never leave a worker
writing rows that the resumed run is writing too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import pickle
import queue
import signal
import traceback
from typing import Any, Callable, Dict, List, Sequence, Tuple

PR_SET_PDEATHSIG = 1  # linux/prctl.h


class WorkerError(RuntimeError):
    """A --jobs worker failed with an error that could not be passed back as itself."""


def _die_with_parent(parent_pid: int) -> None:
    """Asks Linux to SIGKILL this process when its parent dies; elsewhere the parent's
    own cleanup (and the daemon flag) is all there is."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling (so the parent can raise the same error), else a
    WorkerError carrying its text and traceback."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any pickling failure means "send text instead"
        return WorkerError(f"{type(exc).__name__}: {exc}\n{''.join(traceback.format_exception(exc))}")


def _worker(config, stages, tasks, events, parent_pid: int) -> None:
    """Process body: set up once, then run cells from ``tasks`` until a None arrives."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        from bench.backend import import_tensorflow

        import_tensorflow()  # its start-up lines once, as the level asks
        from bench.run.cells import open_cells

        run_cell = open_cells(config, stages)
        while (task := tasks.get()) is not None:
            index, family, budget = task
            run_cell(family, budget, index, on_trial=lambda row: events.put(("trial", row)),
                     on_final=lambda row: events.put(("final", row)))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        events.put(("error", _portable(exc)))
    else:
        events.put(("done", None))


def run_cells_in_parallel(config, cells: Sequence[Tuple[str, int]], jobs: int, *,
                          on_trial: Callable[[Dict[str, Any]], None],
                          on_final: Callable[[Dict[str, Any]], None], stages: Tuple[str, ...]) -> None:
    """Runs every (family, budget) cell in ``jobs`` worker processes.

    Args:
        config: the validated BenchConfig; every worker reopens the same run with it.
        cells: (family, budget) pairs; their position is the cell's search index.
        jobs: how many worker processes (at most one per cell).
        on_trial, on_final: called here, in the parent, with each row a worker wrote.
        stages: the stages of every cell to run.

    Raises:
        The first error a worker raised (the same exception when it can be pickled), or
        WorkerError when a worker died without saying why. The other workers are killed.
    """
    ctx = multiprocessing.get_context("spawn")
    tasks, events = ctx.Queue(), ctx.Queue()
    jobs = max(1, min(jobs, len(cells)))
    # Largest budgets first: the costliest cells start early, so no process is left with a long
    # cell while the other idles at the end (the rows do not depend on the order).
    for index, (family, budget) in sorted(enumerate(cells), key=lambda cell: -cell[1][1]):
        tasks.put((index, family, budget))
    for _ in range(jobs):
        tasks.put(None)
    # Every worker sets up TensorFlow like a one-process run (the config's thread count), so
    # float rounding, and every row, is the same for any --jobs.
    procs: List[multiprocessing.Process] = [
        ctx.Process(target=_worker, args=(config, stages, tasks, events, os.getpid()), daemon=True,
                    name=f"wsbench-job-{i}") for i in range(jobs)]
    for proc in procs:
        proc.start()
    try:
        running = jobs
        while running:
            try:
                kind, payload = events.get(timeout=1.0)
            except queue.Empty:
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    raise WorkerError(f"--jobs worker {dead[0].name} died with exit code {dead[0].exitcode} "
                                      f"before finishing its cells; rerun the same command to resume.") from None
                continue
            if kind == "trial":
                on_trial(payload)
            elif kind == "final":
                on_final(payload)
            elif kind == "error":
                raise payload
            else:
                running -= 1
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
            proc.join()
