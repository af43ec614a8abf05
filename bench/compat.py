"""Every use of a private keras-tuner or TensorFlow internal, in one place.

Each function names the version it was checked on and the public path, where one exists.
``tests/test_compat.py`` fails loudly, naming the internal, when an upgrade moves one.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any, Callable, Iterator, List

#: Versions every internal below was checked on.
CHECKED_ON = {"keras_tuner": "1.4.8", "tensorflow": "2.21.0", "jax": "0.10.2"}

# -- keras-tuner ----------------------------------------------------------------------------------


def quiet_failed_trials() -> None:
    """Stops keras-tuner printing the traceback of every failed trial to stderr.

    An infeasible configuration is an expected outcome here: the reason goes to the
    progress line and trials.csv, and the traceback stays in the trial's trial.json.
    Internal: ``keras_tuner.src.config.DEBUG`` (checked on 1.4.8). Public path: none.
    """
    from keras_tuner.src import config

    config.DEBUG = False


def atomic_tuner_state() -> None:
    """Makes keras-tuner write its JSON state (oracle.json, tuner_*.json, trial.json) atomically.

    keras-tuner opens the file for writing, which truncates it, then writes: a process killed
    in between leaves an empty oracle.json, and the run could not resume. Every such write goes
    through ``keras_tuner.src.utils.save_json`` (checked on 1.4.8; Stateful.save and
    Tuner.save_model look it up on the module at call time), which is replaced here by a
    temporary-file-and-rename write. Public path: none. Idempotent.
    """
    import json

    from keras_tuner.src import utils

    from bench.store.atomic import write_text_atomic

    if getattr(utils.save_json, "wsbench_atomic", False):
        return

    def save_json(path, obj):
        text = json.dumps(obj)
        write_text_atomic(path, text)
        return text

    save_json.wsbench_atomic = True
    utils.save_json = save_json


#: How long :func:`oracle_lock` waits. keras-tuner's oracle methods hold the lock for
#: milliseconds, but do not release it when they raise (checked on 1.4.8): waiting longer
#: would hang the run for good.
ORACLE_LOCK_WAIT_S = 600.0


@contextlib.contextmanager
def oracle_lock(oracle, wait_s: float = ORACLE_LOCK_WAIT_S) -> Iterator[None]:
    """Holds the lock keras-tuner's oracle methods hold (``keras_tuner.src.engine.oracle.LOCKS``,
    checked on 1.4.8), to change the oracle's state safely. Public path: none.

    Raises:
        RuntimeError: if the lock is not free within ``wait_s`` seconds (an oracle method
            raised while holding it), rather than waiting for ever.
    """
    from keras_tuner.src.engine.oracle import LOCKS

    lock = LOCKS[oracle]
    if not lock.acquire(timeout=wait_s):
        raise RuntimeError(f"keras-tuner's oracle lock was still held after {wait_s:.0f} s: an oracle call failed "
                           f"while holding it, and keras-tuner never releases it then; rerun the same command to "
                           f"resume.")
    try:
        yield
    finally:
        lock.release()


def retry_queue(oracle) -> List[str]:
    """The oracle's queue of trial ids to run again (``Oracle._retry_queue``, checked on
    1.4.8). Public path: none; keras-tuner fills it only when a reloaded oracle finds
    trials that were running. Change it holding :func:`oracle_lock`."""
    return oracle._retry_queue



def requeue_interrupted_trials(oracle) -> List[str]:
    """Makes a reloaded oracle run again exactly the trials a killed run left unfinished;
    returns the ids it added to the retry queue.

    keras-tuner (checked on 1.4.8) saves a new trial's trial.json (status RUNNING) before
    oracle.json lists it as ongoing, and ``end_trial`` saves oracle.json while the ended trial
    is still listed as ongoing. A kill in the first window leaves a trial that the reload
    (``Oracle.reload``) finds neither ongoing nor queued: it is never run, yet counts towards
    ``max_trials``, and its row is lost. After the second, the reload queues a trial that
    had completed, which would be trained again for nothing. Public path: none.
    """
    with oracle_lock(oracle):
        queue = retry_queue(oracle)
        queue[:] = [tid for tid in queue if oracle.trials[tid].status != "COMPLETED"]
        ongoing = {t.trial_id for t in oracle.ongoing_trials.values()}
        lost = [tid for tid, trial in sorted(oracle.trials.items())
                if trial.status == "RUNNING" and tid not in queue and tid not in ongoing]
        queue.extend(lost)
    return lost


def requeue_failed_trials(oracle, retry: Callable[[Any], bool]) -> List[str]:
    """Makes a reloaded oracle run again the finished trials for which ``retry(trial)`` holds
    (failed ones whose layer raised: resuming after the family is fixed retrains them); returns
    their ids, in order.

    Each is marked RUNNING, as keras-tuner marks a trial it hands out again, so nothing
    records it as failed before it has run again, and put on the retry queue, which
    ``Oracle.create_trial`` empties before counting trials against ``max_trials`` (checked
    on 1.4.8). Public path: none. Change it holding :func:`oracle_lock`.
    """
    with oracle_lock(oracle):
        queue = retry_queue(oracle)
        again = [tid for tid, trial in sorted(oracle.trials.items())
                 if trial.status in ("FAILED", "INVALID") and retry(trial)]
        for tid in again:  # also those a reload queued already (they were running at a kill)
            oracle.trials[tid].status = "RUNNING"
        # create_trial pops from the end: the lowest id runs first.
        queue.extend(tid for tid in reversed(again) if tid not in queue)
    return again


@contextlib.contextmanager
def declaring_only(hypermodel, declare: Callable[[Any], Any]) -> Iterator[None]:
    """While the block runs, ``hypermodel.build(hp)`` only declares the search space on ``hp``
    (with ``declare(hp)``), building no model.

    keras-tuner's ``BaseTuner._populate_initial_space`` (checked on 1.4.8; documented there as a
    subroutine for subclasses to override) builds a whole model at the default values just to
    learn the search space: a family whose layer raises at its defaults would stop the run
    there, before any trial could fail and be recorded. Public path: none.
    """
    hypermodel.build = declare  # an instance attribute shadows the method
    try:
        yield
    finally:
        del hypermodel.build


#: How often the chief checks whether its workers have left once a search is over.
CHIEF_EXIT_POLL_S = 0.5


class _ShortSleeps:
    """Stands in for the ``time`` module inside keras-tuner's chief with sleeps of at most
    :data:`CHIEF_EXIT_POLL_S`."""

    def __getattr__(self, name):
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(min(seconds, CHIEF_EXIT_POLL_S))


@contextlib.contextmanager
def fast_chief_exit() -> Iterator[None]:
    """While the block runs, keras-tuner's chief notices within :data:`CHIEF_EXIT_POLL_S` that
    its workers left (it polls every 20 s, idling up to 20 s at the end of every search).

    Internal: the ``time`` module global of ``keras_tuner.src.distribute.oracle_chief``
    (checked on 1.4.8), restored afterwards. Public path: none.
    """
    from keras_tuner.src.distribute import oracle_chief

    saved = oracle_chief.time
    oracle_chief.time = _ShortSleeps()
    try:
        yield
    finally:
        oracle_chief.time = saved


# -- TensorFlow -----------------------------------------------------------------------------------

#: Names tf.custom_gradient gives its registrations ("CustomGradient-<uid>").
CUSTOM_GRADIENT_PREFIX = "CustomGradient-"


def gradient_registry() -> dict:
    """TensorFlow's process-global gradient registry (``ops.gradient_registry._registry``,
    checked on 2.21.0). Public path: none."""
    from tensorflow.python.framework import ops

    return ops.gradient_registry._registry


def release_tf_graphs() -> int:
    """Frees the TensorFlow graphs of models that are gone; returns the registrations dropped.

    Keras 3's TensorFlow optimizer sums gradients across replicas through ``tf.distribute``'s
    ``all_reduce``, a ``tf.custom_gradient``. Traced in graph mode (inside every model's
    train function), it registers its gradient function in TensorFlow's global gradient
    registry under a fresh name, and that function's closure holds the whole traced train
    graph. Nothing unregisters it, so each trained model leaked its graph (~10 MiB per trial
    on digits); ``keras.backend.clear_session()`` does not reach the registry.

    Call it between models, never while one is being traced: a registration is only looked
    up while its own graph's gradients are being built.
    """
    import gc

    import keras

    if keras.backend.backend() != "tensorflow":  # no TensorFlow graphs are traced on another backend
        gc.collect()
        return 0
    registry = gradient_registry()
    names = [n for n in registry if isinstance(n, str) and n.startswith(CUSTOM_GRADIENT_PREFIX)]
    for name in names:
        del registry[name]
    gc.collect()
    return len(names)


# -- JAX ------------------------------------------------------------------------------------------


def jax_backend_started() -> bool:
    """Whether JAX has started its backends (its CPU client reads its thread count then).

    Internal: ``jax._src.xla_bridge.backends_are_initialized`` (checked on 0.10.2). Public
    path: none (``jax.devices()`` would start them).
    """
    if "jax" not in sys.modules:
        return False
    from jax._src import xla_bridge

    return bool(xla_bridge.backends_are_initialized())
