"""Distributed tuning on keras-tuner's own chief/worker engine.

The chief serves each family × budget search's oracle over gRPC; workers pull trials
from it and train them. keras-tuner reads its role from the environment
(``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``); wsbench
sets those per search, giving search number i the port ``base + i`` so that a worker that
finishes one search early can never talk to the previous search's oracle.

With ``--workers N`` the chief also starts N local workers over loopback and watches them:
when one dies, the trial it was running is handed back to the oracle's retry queue and
another worker trains it. Across machines the chief cannot see the workers; a lost
worker's trial is retried when the chief is restarted (keras-tuner re-queues trials that
were running), i.e. by rerunning the same command.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

from bench.compat import fast_chief_exit, oracle_lock, retry_queue

ENV_KEYS = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")
ROLES = ("single", "chief", "worker")


@dataclass(frozen=True)
class Role:
    """Where this process stands in a distributed search.

    Attributes:
        kind: 'single' (no distribution), 'chief' (serves the oracle) or 'worker'.
        host, base_port: the chief's address; search number i listens on base_port + i.
        worker_id: the worker's tuner id (workers only).
    """

    kind: str = "single"
    host: str = "127.0.0.1"
    base_port: int = 0
    worker_id: str = ""

    @property
    def distributed(self) -> bool:
        return self.kind != "single"


def parse_oracle(address: str) -> Tuple[str, int]:
    """'HOST:PORT' → (host, port); raises ValueError naming the bad address."""
    host, sep, port = str(address).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--oracle {address!r} is not accepted: give HOST:PORT with a port in 1..65535, "
                         f"e.g. 127.0.0.1:8000.")
    return host, int(port)


def free_port_block(count: int, host: str = "127.0.0.1") -> int:
    """A base port such that ``count`` consecutive ports are free on ``host`` right now."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind((host, 0))
            base = probe.getsockname()[1]
        if base + count >= 65536:
            continue
        try:
            with contextlib.ExitStack() as stack:
                for port in range(base, base + count):
                    s = stack.enter_context(socket.socket())
                    s.bind((host, port))
            return base
        except OSError:
            continue
    raise RuntimeError(f"could not find {count} consecutive free ports on {host}")


@contextlib.contextmanager
def keras_tuner_role(role: Role, search_index: int):
    """Sets keras-tuner's role variables for one search, and restores them after."""
    if not role.distributed:
        yield
        return
    saved = {k: os.environ.get(k) for k in ENV_KEYS}
    os.environ["KERASTUNER_TUNER_ID"] = "chief" if role.kind == "chief" else role.worker_id
    os.environ["KERASTUNER_ORACLE_IP"] = role.host
    os.environ["KERASTUNER_ORACLE_PORT"] = str(role.base_port + search_index)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def requeue_lost_trial(oracle, tuner_id: str) -> Optional[str]:
    """Hands the trial a dead worker was running back to the oracle's retry queue.

    Returns:
        The re-queued trial id, or None if the worker held none.
    """
    with oracle_lock(oracle):
        oracle.tuner_ids.discard(tuner_id)
        trial = oracle.ongoing_trials.pop(tuner_id, None)
        if trial is None:
            return None
        retry_queue(oracle).append(trial.trial_id)
        oracle.save()
        return trial.trial_id


def search_unfinished(oracle) -> bool:
    """Whether the oracle still has trials to hand out or waiting to be finished."""
    with oracle_lock(oracle):
        if retry_queue(oracle) or oracle.ongoing_trials:
            return True
        max_trials = getattr(oracle, "max_trials", None)
        return bool(max_trials) and len(oracle.trials) < max_trials


def serve_search(search: Callable[[], None], oracle, *, record: Callable[[], None],
                 workers: Sequence["LocalWorker"] = (), poll_s: float = 0.5) -> None:
    """Runs the chief's blocking ``search`` in a thread while recording finished trials
    and re-queuing the trials of local workers that died.

    Raises:
        RuntimeError: if every local worker died before the search finished.
    """
    failure: List[BaseException] = []

    def target():
        try:
            search()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(exc)

    with fast_chief_exit():
        _watch(threading.Thread(target=target, name="wsbench-oracle", daemon=True), oracle, record, workers, poll_s)
    if failure:
        raise failure[0]
    record()


def _watch(thread: threading.Thread, oracle, record: Callable[[], None], workers: Sequence["LocalWorker"],
           poll_s: float) -> None:
    """Runs the chief's search ``thread`` to its end, recording trials and re-queuing lost ones."""
    thread.start()
    lost = set()
    while thread.is_alive():
        thread.join(poll_s)
        record()
        for worker in workers:
            if worker.id not in lost and worker.process.poll() is not None:
                lost.add(worker.id)
                trial = requeue_lost_trial(oracle, worker.id)
                if worker.process.returncode != 0:
                    print(f"  worker {worker.id} exited with code {worker.process.returncode}"
                          + (f"; its trial {trial} goes to another worker" if trial else ""), flush=True)
        # Workers leave once the oracle says stop; the chief then ends on its own (within
        # CHIEF_EXIT_POLL_S). Only work left with no worker to do it is an error.
        if workers and len(lost) == len(workers) and thread.is_alive() and search_unfinished(oracle):
            codes = {w.id: w.process.returncode for w in workers}
            raise RuntimeError(f"every worker exited before the search finished (exit codes {codes}); "
                               f"rerun the same command to resume.")


@dataclass
class LocalWorker:
    id: str
    process: subprocess.Popen


def launch_local_workers(count: int, argv: Sequence[str], host: str, base_port: int) -> List[LocalWorker]:
    """Starts ``count`` worker processes running the same bench command as this chief."""
    workers = []
    for i in range(count):
        worker_id = f"worker{i}"
        cmd = [sys.executable, "-m", "bench.cli", *argv, "--role", "worker", "--oracle", f"{host}:{base_port}",
               "--worker-id", worker_id]
        workers.append(LocalWorker(worker_id, subprocess.Popen(cmd, env=dict(os.environ))))
    return workers


def stop_workers(workers: Sequence[LocalWorker], timeout: float = 60) -> None:
    """Waits for workers to exit after the last search, killing any that hang."""
    deadline = time.time() + timeout
    for worker in workers:
        try:
            worker.process.wait(max(deadline - time.time(), 0.1))
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
