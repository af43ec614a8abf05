"""The child process of ``wsbench speed --fits``: trains the plain recipes on one backend.

Keras fixes its backend when it is first imported, so every backend (and every repeat)
gets a fresh process: ``python -m bench.speed.fit_worker`` with ``KERAS_BACKEND`` set,
reading a JSON request on stdin and printing one ``FIT {json}`` line per trained model.

Each fit is what a run's baseline stage does for one seed, in the order a user pays for it:
the process is set up as a run's are (:func:`bench.backend.configure`: one thread by
default, on either backend), then per family ``BudgetedHyperModel`` + the plain recipe
(:func:`bench.run.evaluation.recipe`), ``hypermodel.build(hp)`` and ``hypermodel.train``
(the real protocol, :mod:`bench.run.protocol`). ``fit_s`` is build + train, tracing and
compilation included. The steady state is read off the same fit: epochs (``eval_every``
steps plus a validation) after the first trace nothing, so ``steady_fit_s`` is their mean
time times the number of epochs, and ``first_epoch_s`` minus one such epoch is the tracing,
compilation and start-up a fit pays once.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import sys
import time
from typing import Any, Dict, List

#: Prefix of the result lines on stdout (Keras and TensorFlow may print there too).
PREFIX = "FIT "


def _epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Records when training starts and when each epoch (steps + validation) ends."""

        def on_train_begin(self, logs=None):
            self.start, self.ends = time.perf_counter(), []

        def on_epoch_end(self, epoch, logs=None):
            self.ends.append(time.perf_counter())

    return EpochTimer()


def _timing(timer, build_s: float, train_s: float) -> Dict[str, float]:
    """fit_s, first_epoch_s, steady_fit_s and overhead_s from an EpochTimer (NaN with one epoch)."""
    ends = timer.ends
    first = ends[0] - timer.start if ends else math.nan
    steady_epoch = (ends[-1] - ends[0]) / (len(ends) - 1) if len(ends) >= 2 else math.nan
    return {"build_s": build_s, "train_s": train_s, "fit_s": build_s + train_s, "first_epoch_s": first,
            "steady_fit_s": steady_epoch * len(ends), "overhead_s": build_s + train_s - steady_epoch * len(ends)}


def fit_rows(request: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Trains every requested family's plain recipe once per budget; one row per fit, printed as it ends."""
    from bench import backend

    name = backend.choose(request["backend"])
    from bench.run.config import PROFILES

    config = dataclasses.replace(PROFILES["default"], families=tuple(request["families"]),
                                 budgets=tuple(request["budgets"]), steps=request["steps"],
                                 eval_every=request["eval_every"], threads=request["threads"], backend=name,
                                 run_name="speed-fits").validated()
    backend.configure(config)  # before the first computation: JAX reads its thread count then
    import keras

    from bench.compat import release_tf_graphs
    from bench.data import load_dataset
    from bench.environment import device, library_versions
    from bench.run.evaluation import recipe
    from bench.run.hypermodel import BudgetedHyperModel

    dataset = load_dataset(config.dataset, val_fraction=config.val_fraction, seed=config.seed)
    common = dict(backend=name, threads=config.threads, thread_env=os.environ.get(backend.JAX_THREADS_ENV, ""),
                  steps=config.steps, eval_every=config.eval_every, batch_size=config.batch_size,
                  dataset=config.dataset, device=device(), **library_versions())
    rows = []
    for budget, family in itertools.product(config.budgets, config.families):
        keras.backend.clear_session()  # as every stage of a run does before it builds
        release_tf_graphs()
        hypermodel = BudgetedHyperModel(family, dataset.input_shape, dataset.num_classes, budget, config)
        hp = recipe(hypermodel)
        solution = hypermodel.solve(hp)
        row = dict(common, family=family, budget=budget, params=solution.params, widths=solution.label)
        if not solution.feasible:
            row.update(status="infeasible", reason=solution.reason)
        else:
            keras.utils.set_random_seed(request["seed"])
            start = time.perf_counter()
            model = hypermodel.build(hp)
            built = time.perf_counter()
            timer = _epoch_timer()
            result = hypermodel.train([model], [request["seed"]], hp, dataset.x_train, dataset.y_train,
                                      (dataset.x_val, dataset.y_val), callbacks=[timer])[0]
            row.update(_timing(timer, built - start, time.perf_counter() - built), status="completed", reason="",
                       val_accuracy=result.val_accuracy, val_loss=result.val_loss, best_step=result.best_step,
                       steps_run=result.steps, converged=result.converged, diverged=result.diverged)
            del model
        print(PREFIX + json.dumps(row, default=str), flush=True)
        rows.append(row)
    return rows


def main() -> int:
    """Reads the request on stdin, trains, prints ``FIT`` lines; exit 0."""
    fit_rows(json.loads(sys.stdin.read()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
