"""Step memory of a run's tuned models: the allocator's peak of one training step, each model
in a fresh process.

The bench process has trained many models before its throughput stage, and a process's
memory figures carry what it did before: its resident memory rose with every model measured
(the peak RSS column of earlier runs), and even TensorFlow's allocator counts drift by a few
per cent with its history (it hands out whole chunks it split earlier). So a child process
(``python -m bench.run.step_memory``) starts TensorFlow with its counting CPU allocator
(:mod:`bench.measuring`), loads Keras and the layer classes, runs no operation, and forks
one grandchild per model: every model is measured from the same untouched state, the
order of measurement changes nothing. A grandchild loads its model, compiles it (Adam,
sparse categorical cross-entropy, as the throughput stage times it), takes two untimed
training steps at the run's throughput batch, and reports the largest of three steps' peak
above the bytes in use before the step: activations, gradients and temporaries.

TensorFlow runs the child whatever the run's backend (its allocator is the one that counts);
the saved ``.keras`` files load under either backend.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Dict, Hashable, Optional, Sequence, Tuple

from bench.measuring import run_child

#: Models measured side by side (allocator counts are per process, so this changes no figure).
PARALLEL = max(1, min(2, os.cpu_count() or 1))


def step_memory(models: Dict[Hashable, Path], input_shape: Sequence[int], num_classes: int, batch: int,
                timeout: float = 1800.0) -> Tuple[Dict[Hashable, Optional[float]], str]:
    """MiB of one training step of each saved model (see the module doc).

    Args:
        models: key → path of a saved ``.keras`` model.
        input_shape: (H, W, C) of one image.
        num_classes: classes of its output (for the synthetic labels).
        batch: images per step.
        timeout: seconds before the child is abandoned.

    Returns:
        (key → MiB, or None where it could not be measured; a note saying why the child
        failed, or '').
    """
    keys = list(models)
    request = {"paths": [str(models[k]) for k in keys], "input_shape": [int(v) for v in input_shape],
               "num_classes": int(num_classes), "batch": int(batch)}
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    result, note = run_child("bench.run.step_memory", request, timeout, env=env)
    values = result.get("mib") or [None] * len(keys)
    return {k: (float(v) if v is not None else None) for k, v in zip(keys, values)}, note or result.get("note", "")


def _one_model(args):
    """In a forked grandchild: the step memory of the model at ``path`` in MiB, or the text
    of the error that prevented it."""
    path, input_shape, num_classes, batch = args
    import keras
    import numpy as np

    from bench.measuring import step_peak_mib

    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, *input_shape)).astype("float32")
    y = rng.integers(0, num_classes, size=batch).astype("int32")
    model = keras.saving.load_model(path, compile=False)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    for _ in range(2):  # traces the step and makes the optimizer's slots: not part of a step's peak
        model.train_on_batch(x, y)
    try:
        return step_peak_mib(lambda: model.train_on_batch(x, y))
    except ValueError as exc:  # the allocator keeps no statistics (the environment variable did not reach it)
        return f"TensorFlow's allocator keeps no statistics here: {exc}"


def _main() -> int:
    """Child side of :func:`step_memory`: reads the request on stdin, prints {'mib': [...]}."""
    request = json.loads(sys.stdin.read())
    from bench.backend import import_tensorflow

    import_tensorflow()
    import tensorflow as tf

    # One thread each: the executor then runs a step's ops in one order, so what is alive at
    # once, and the peak, is the same from step to step and process to process.
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    import keras  # noqa: F401 - imported before the forks, so no grandchild pays for it

    import layers

    layers.load_layer_classes()
    tasks = [(path, tuple(request["input_shape"]), request["num_classes"], request["batch"])
             for path in request["paths"]]
    # One fresh fork per model (maxtasksperchild=1), taken from this process before it ran
    # any TensorFlow operation: TensorFlow's runtime threads, which would not survive a fork,
    # do not exist yet.
    with multiprocessing.get_context("fork").Pool(PARALLEL, maxtasksperchild=1) as pool:
        results = pool.map(_one_model, tasks, chunksize=1)
    errors = sorted({r for r in results if isinstance(r, str)})
    print(json.dumps({"mib": [r if not isinstance(r, str) else None for r in results], "note": "; ".join(errors)}))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
