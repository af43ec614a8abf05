"""The final stage: retrain each family × budget's best configuration with several seeds
and evaluate it once on the test split."""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Dict

import keras

from bench.compat import release_tf_graphs
from bench.run.hypermodel import BudgetedHyperModel
from bench.store import RunDir
from bench.run.tuning import best_trial


def restart_from(model: keras.Model, fresh: keras.Model) -> keras.Model:
    """Puts ``model`` (trained, compiled, same architecture) back in the state of ``fresh``
    (just built and compiled with the next seed): every variable, including batch-norm
    statistics and dropout seed states, and the optimizer state (step count, moments).

    Training ``model`` afterwards gives bit-for-bit the numbers of training ``fresh`` (a test
    checks this), but reuses the train and test functions TensorFlow already traced for
    ``model``: on small data, tracing is most of a fit's time. Returns ``model``.
    """
    shapes = lambda m: [(tuple(v.shape), v.dtype) for v in m.variables]  # noqa: E731 - names may differ
    if shapes(model) != shapes(fresh) or not model.optimizer.built:
        raise ValueError(f"cannot restart model {model.name!r} from {fresh.name!r}: not the same trained architecture")
    fresh.optimizer.build(fresh.trainable_variables)
    for target, source in zip(model.variables + model.optimizer.variables,
                              fresh.variables + fresh.optimizer.variables, strict=True):
        target.assign(source)
    return model


def no_trial_row(run: RunDir, context: Dict[str, Any]) -> Dict[str, Any]:
    """The single final.csv row of a cell whose search found no completed trial."""
    trials = run.read("trials")
    mine = trials[(trials["family"] == context["family"]) & (trials["budget"] == int(context["budget"]))]
    infeasible = mine[mine["status"] == "infeasible"]
    status = "infeasible" if len(infeasible) == len(mine) and len(mine) else "failed"
    reasons = mine["reason"].dropna().astype(str)
    reason = reasons.iloc[0] if len(reasons) else "no trial finished"
    return dict(context, seed="", status=status, reason=f"no completed trial in {len(mine)}: {reason}",
                best_hp="", width=None, params=None, test_accuracy=None, test_loss=None, epochs=None, train_s=None)


def run_final(run: RunDir, context: Dict[str, Any], hypermodel: BudgetedHyperModel, tuner, dataset, *, seeds: int,
              base_seed: int, report: Callable[[Dict[str, Any]], None]) -> None:
    """Retrains the best trial's configuration with ``seeds`` seeds; appends final.csv rows.

    The first seed's model is saved to ``models/<family>__<budget>.keras`` before its row is
    written, so a row always has its model on disk. Seeds restart an already traced model of
    the same architecture from their own fresh weights (:func:`restart_from`) instead of
    tracing a new one; the numbers are the same either way.
    """
    best = best_trial(tuner)
    if best is None:
        for row in run.append("final", [no_trial_row(run, context)]):
            report(row)
        return
    hp = best.hyperparameters
    done = run.keys("final")
    # Every seed trains the same architecture as the search's best trial: the model that trial
    # trained in this process (if any), else the first seed's, keeps its traced functions and
    # restarts from each seed's fresh weights.
    model = hypermodel.trained_model(hp)
    keras.backend.clear_session()
    release_tf_graphs()
    for i in range(seeds):
        seed = base_seed + i
        if (context["family"], int(context["budget"]), str(seed)) in done:
            continue
        keras.utils.set_random_seed(seed)
        fresh = hypermodel.build(hp)
        model = fresh if model is None else restart_from(model, fresh)
        del fresh
        start = time.perf_counter()
        metrics = hypermodel.fit(hp, model, dataset.x_train, dataset.y_train,
                                 validation_data=(dataset.x_val, dataset.y_val),
                                 epochs=hypermodel.settings.epochs)
        train_s = time.perf_counter() - start
        test_loss, test_accuracy = model.evaluate(dataset.x_test, dataset.y_test, verbose=0,
                                                  batch_size=hypermodel.settings.batch_size)
        if i == 0:
            run.save_model(model, context["family"], context["budget"])
        row = dict(context, seed=seed, status="completed", reason="",
                   best_hp=json.dumps({k: v for k, v in hp.values.items() if not k.startswith("tuner/")},
                                      sort_keys=True),
                   width=float(metrics["width"]), params=int(metrics["params"]), test_accuracy=float(test_accuracy),
                   test_loss=float(test_loss), epochs=int(metrics["epochs"]), train_s=train_s)
        for written in run.append("final", [row]):
            report(written)
