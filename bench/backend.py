"""The Keras backend a process trains with, and setting that process up.

Keras picks its backend once, when it is first imported: from ``KERAS_BACKEND``, else
``~/.keras/keras.json``, else TensorFlow. ``wsbench --backend NAME`` therefore sets
``KERAS_BACKEND`` before anything imports Keras (:func:`choose`); every process of a run
(``--jobs`` workers, local distributed workers) inherits it. The layers are written with
``keras.ops`` and run on either backend; TensorFlow stays installed on both, for ``tf.data``
(the training stream), TensorBoard and keras-tuner.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import List, Optional

BACKENDS = ("tensorflow", "jax")


class BackendError(ValueError):
    """A backend that is unknown, not installed, or asked for after Keras chose another."""


def check(name: str) -> str:
    """``name`` if wsbench supports it, else BackendError naming the accepted ones."""
    if name not in BACKENDS:
        raise BackendError(f"backend {name!r} is not accepted: use one of {list(BACKENDS)}.")
    if name == "jax":
        try:
            import jax  # noqa: F401
        except ImportError:
            raise BackendError("backend 'jax' needs JAX installed: pip install -e '.[jax]' (or make install, whose "
                               "dev extra includes it).") from None
    return name


def requested(argv: List[str]) -> Optional[str]:
    """The value of ``--backend`` in a command line, if it has one."""
    for i, token in enumerate(argv):
        if token == "--backend" and i + 1 < len(argv):
            return argv[i + 1]
        if token.startswith("--backend="):
            return token.split("=", 1)[1]
    return None


def choose(name: Optional[str]) -> str:
    """Makes ``name`` (or Keras's own setting when None) this process's backend; returns it.

    Raises:
        BackendError: an unknown or missing backend, or Keras already runs another one here.
    """
    if name is None:
        return active()
    check(name)
    if "keras" in sys.modules:
        if active() != name:
            raise BackendError(f"backend {name!r} is not accepted here: Keras already runs on {active()!r} in this "
                               f"process; start a new process with --backend {name} (or KERAS_BACKEND={name}).")
        return name
    os.environ["KERAS_BACKEND"] = name
    return name


#: absl's notice that precedes TensorFlow's early C++ log lines (it is no finding of its own).
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


def import_tensorflow() -> None:
    """Imports TensorFlow with its C++ start-up lines printed once, and only as
    ``TF_CPP_MIN_LOG_LEVEL`` asks.

    Two of TensorFlow's shared libraries each log the same start-up lines through absl before
    logging is set up (so ``TF_CPP_MIN_LOG_LEVEL`` does not reach them): every line came out
    twice. The import runs with the process's stderr (file descriptor 2) sent to a temporary
    file; afterwards each distinct message is written once, absl's I/W/E lines only at or
    above the level ``TF_CPP_MIN_LOG_LEVEL`` keeps (0: all, 1: from warnings, 2: errors,
    3: none); anything else (a Python warning, an error) is written as it came.
    Does nothing when TensorFlow is imported already.
    """
    if "tensorflow" in sys.modules:
        return
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines()
    level = int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") or 0)
    kept, seen, severity = [], set(), -1
    for line in lines:
        absl = line[1:5].isdigit() and "] " in line  # 'I0000 00:00:<time> <pid> port.cc:153] message'
        if absl:
            severity = "IWEF".find(line[:1])
        # A line without absl's prefix continues the one before it and shares its fate.
        message = line.split("] ", 1)[1] if absl else line  # the same line again differs only in its time stamp
        if line == _ABSL_PREAMBLE or 0 <= severity < level or message in seen:
            continue
        seen.add(message)
        kept.append(line)
    if kept:
        print("\n".join(kept), file=sys.stderr, flush=True)


def active() -> str:
    """The backend Keras runs (imports Keras)."""
    import keras

    return keras.backend.backend()


def configure(config) -> None:
    """Sets up this process to train: deterministic, with ``config.threads`` threads.

    One thread per process is the default: on these small models it is faster than the
    backends' default pools (measured with TensorFlow: 3 digits models in 18.3 s with one
    thread against 22.9 s with the defaults, on 2 cores), two ``--jobs`` processes then use
    both cores without fighting, and the same thread count in every process keeps float
    rounding, and so every number, the same for any ``--jobs``. ``threads=0`` keeps the
    backend's defaults. TensorFlow runs its own ops (and the ``tf.data`` stream) under any
    backend, so it is set up either way; JAX's XLA is deterministic on the CPU as it is, and
    its thread pools are sized by :func:`limit_jax_threads`.

    Last, the objects alive now (TensorFlow, Keras, keras-tuner and the data: ~460,000 of them)
    are moved out of the cyclic garbage collector's reach with :func:`gc.freeze`; they live
    as long as the process anyway. Keras and keras-tuner run a full collection before every
    model they build (three per trial), and each then skips them: 0.28 s → 0.04 s a collection
    (measured on a quick run of 8 trials and 6 final models: 8.9 s → 1.3 s of collections,
    43.8 s → 37.4 s in all).
    """
    import gc

    import tensorflow as tf

    if active() == "jax":
        limit_jax_threads(config.threads)

    tf.config.experimental.enable_op_determinism()
    if config.threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(config.threads)
            tf.config.threading.set_inter_op_parallelism_threads(config.threads)
        except RuntimeError:  # TensorFlow already started in this process (e.g. a test runs in-process)
            warnings.warn(f"TensorFlow had already started; it keeps its thread pools, not threads={config.threads}",
                          stacklevel=2)
    gc.collect()  # what is garbage now is not frozen with the rest
    gc.freeze()


#: Sizes the thread pools of JAX's CPU client (XLA's PJRT client reads it once, when JAX starts
#: its backend). XLA_FLAGS=--xla_cpu_multi_thread_eigen=false no longer limits them: with
#: jaxlib 0.10.2 a training step still keeps 1.3 cores busy with it, and 1.0 with this.
JAX_THREADS_ENV = "PJRT_NPROC"


def limit_jax_threads(threads: int) -> None:
    """Gives JAX ``threads`` threads on the CPU (0: its default, one per core).

    It must happen before JAX runs its first computation; afterwards a warning says the
    process keeps the pools it has.
    """
    if not threads:
        return
    from bench.compat import jax_backend_started

    if jax_backend_started() and os.environ.get(JAX_THREADS_ENV) != str(threads):
        warnings.warn(f"JAX had already started; it keeps its thread pools, not threads={threads}", stacklevel=2)
        return
    os.environ[JAX_THREADS_ENV] = str(threads)
