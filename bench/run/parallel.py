"""Running family × budget cells (and other tasks) side by side in local worker processes (``--jobs N``).

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
import functools
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


def _worker(setup, tasks, events, parent_pid: int) -> None:
    """Process body: ``handle = setup()`` once, then ``handle(task, emit)`` for every task from
    ``tasks`` until a None arrives; ``emit(kind, payload)`` sends an event to the parent."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        from bench.backend import import_tensorflow

        import_tensorflow()  # its start-up lines once, as the level asks
        handle = setup()
        while (task := tasks.get()) is not None:
            handle(task, lambda kind, payload: events.put((kind, payload)))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        events.put(("error", _portable(exc)))
    else:
        events.put(("done", None))


def run_in_workers(setup: Callable[[], Callable], tasks: Sequence[Any], jobs: int, *,
                   on_event: Callable[[str, Any], None], what: str = "cells") -> None:
    """Runs every task in ``jobs`` spawned worker processes.

    Args:
        setup: a picklable function (a module-level one, or a ``functools.partial`` of one) that
            each worker calls once to set itself up; it returns ``handle(task, emit)``.
        tasks: the tasks, handed out in this order to whichever worker is free.
        jobs: how many worker processes (at most one per task).
        on_event: called here, in the parent, with every ``(kind, payload)`` a worker emits.
        what: what the tasks are, for the message when a worker dies.

    Raises:
        The first error a worker raised (the same exception when it can be pickled), or
        WorkerError when a worker died without saying why. The other workers are killed.
    """
    ctx = multiprocessing.get_context("spawn")
    queue_in, events = ctx.Queue(), ctx.Queue()
    jobs = max(1, min(jobs, len(tasks)))
    for task in tasks:
        queue_in.put(task)
    for _ in range(jobs):
        queue_in.put(None)
    # Every worker sets up TensorFlow like a one-process run (the config's thread count), so
    # float rounding, and every row, is the same for any --jobs.
    procs: List[multiprocessing.Process] = [
        ctx.Process(target=_worker, args=(setup, queue_in, events, os.getpid()), daemon=True,
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
                                      f"before finishing its {what}; rerun the same command to resume.") from None
                continue
            if kind == "error":
                raise payload
            if kind == "done":
                running -= 1
            else:
                on_event(kind, payload)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
            proc.join()


def _cell_handler(config, protocol, stages):
    """A worker's handler of cell tasks (index, family, budget, seeds)."""
    from bench.run.cells import open_cells

    run_cell = open_cells(config, protocol, stages)

    def handle(task, emit):
        index, family, budget, seeds = task
        run_cell(family, budget, index, seeds=seeds, on_trial=lambda row: emit("trial", row),
                 on_final=lambda row: emit("final", row))
    return handle


def run_cells_in_parallel(config, protocol, cells: Sequence[Tuple[int, str, int, int]], jobs: int, *,
                          on_trial: Callable[[Dict[str, Any]], None],
                          on_final: Callable[[Dict[str, Any]], None], stages: Tuple[str, ...]) -> None:
    """Runs every cell, (search index, family, budget, final seeds), in ``jobs`` worker processes
    (see :func:`run_in_workers`); ``on_trial`` / ``on_final`` get each row a worker wrote."""
    # Largest budgets first: the costliest cells start early, so no process is left with a long
    # cell while the other idles at the end (the rows do not depend on the order).
    ordered = sorted(cells, key=lambda cell: -cell[2])
    run_in_workers(functools.partial(_cell_handler, config, protocol, stages), ordered, jobs,
                   on_event=lambda kind, row: (on_trial if kind == "trial" else on_final)(row))
