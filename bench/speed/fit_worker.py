"""The child process of ``wsbench speed --fits``: trains the plain recipes on one backend.

Keras fixes its backend when it is first imported, so every backend (and every repeat)
gets a fresh process: ``python -m bench.speed.fit_worker`` with ``KERAS_BACKEND`` set,
reading a JSON request on stdin and printing one ``FIT {json}`` line per trained model.

Each fit is what a run's baseline stage does for a seed, in the order a user pays for it, by two
paths (:data:`PATHS`): one seed per program, or the run's protocol (seeds together):
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


#: How each path trains ``seeds`` seeds of one configuration: one program per seed and one step per
#: call into the compiled step (how every fit ran before seeds trained together), or the run's
#: protocol (:class:`bench.run.protocol.Protocol`: seeds together, several steps per call).
PATHS = ("alone", "together")


def fit_rows(request: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Trains every requested family's plain recipe at each budget with ``seeds`` seeds by
    each path; one row per seed, printed as each program ends (a program's time is shared
    equally by its seeds)."""
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
    from bench.run.protocol import Protocol

    dataset = load_dataset(config.dataset, val_fraction=config.val_fraction, seed=config.seed)
    common = dict(backend=name, threads=config.threads, thread_env=os.environ.get(backend.JAX_THREADS_ENV, ""),
                  steps=config.steps, eval_every=config.eval_every, batch_size=config.batch_size,
                  dataset=config.dataset, device=device(), **library_versions())
    protocols = {"alone": dataclasses.replace(Protocol.of(config), steps_per_execution=1, together=1),
                 "together": Protocol.of(config)}
    seeds = [request["seed"] + i for i in range(request["seeds"])]
    rows = []
    for budget, family, path in itertools.product(config.budgets, config.families, request["paths"]):
        protocol = protocols[path]
        programs = [[s] for s in seeds] if path == "alone" else [seeds]
        for program in programs:
            keras.backend.clear_session()  # as every stage of a run does before it builds
            release_tf_graphs()
            hypermodel = BudgetedHyperModel(family, dataset.input_shape, dataset.num_classes, budget, config, protocol)
            hp = recipe(hypermodel)
            solution = hypermodel.solve(hp)
            base = dict(common, family=family, budget=budget, params=solution.params, widths=solution.label,
                        path=path, seeds_per_program=len(program), steps_per_execution=protocol.steps_per_execution)
            if not solution.feasible:
                rows.append(dict(base, seed=program[0], status="infeasible", reason=solution.reason))
                print(PREFIX + json.dumps(rows[-1], default=str), flush=True)
                break
            start = time.perf_counter()
            models = hypermodel.build_seeds(hp, program)
            built = time.perf_counter()
            timer = _epoch_timer()
            results = hypermodel.train(models, program, hp, dataset.x_train, dataset.y_train,
                                       (dataset.x_val, dataset.y_val), callbacks=[timer])
            spent = _timing(timer, built - start, time.perf_counter() - built)
            timing = {k: v / len(program) for k, v in spent.items()}  # each seed's share of its program
            for seed, result in zip(program, results):
                rows.append(dict(base, **timing, seed=seed, status="completed", reason="",
                                 val_accuracy=result.val_accuracy, val_loss=result.val_loss,
                                 best_step=result.best_step, steps_run=result.steps, converged=result.converged,
                                 diverged=result.diverged))
                print(PREFIX + json.dumps(rows[-1], default=str), flush=True)
            del models
    return rows


def main() -> int:
    """Reads the request on stdin, trains, prints ``FIT`` lines; exit 0."""
    fit_rows(json.loads(sys.stdin.read()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
