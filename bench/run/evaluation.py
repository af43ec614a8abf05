"""Training a fixed configuration with several seeds and evaluating it once on the test split.

Two stages of a cell do this: the **final evaluation** (the search's best configuration,
final.csv) and the **plain-recipe baseline** (every hyperparameter at its default, untuned,
baseline.csv). Seed i feeds the same batches to every family and both stages, so families
can be compared seed by seed; a baseline seed whose configuration the search chose anyway
is the final seed's row, not a second identical training.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Dict, Optional

import keras
import keras_tuner as kt

from bench.compat import release_tf_graphs
from bench.run.backbone import trainable_parameters
from bench.run.hypermodel import BudgetedHyperModel
from bench.run.tuning import best_trial
from bench.store import RunDir

Report = Callable[[Dict[str, Any]], None]


def restart_from(model: keras.Model, fresh: keras.Model) -> keras.Model:
    """Puts ``model`` (trained, compiled, same architecture) back in the state of ``fresh``
    (just built and compiled with the next seed): every variable, including batch-norm
    statistics and dropout seed states, and the optimizer state (step count, moments).

    Training ``model`` afterwards gives bit-for-bit the numbers of training ``fresh`` (a test
    checks this), but reuses the train and test functions already traced for ``model``: on
    small data, tracing is most of a fit's time. Returns ``model``.
    """
    shapes = lambda m: [(tuple(v.shape), v.dtype) for v in m.variables]  # noqa: E731 - names may differ
    if shapes(model) != shapes(fresh) or not model.optimizer.built:
        raise ValueError(f"cannot restart model {model.name!r} from {fresh.name!r}: not the same trained architecture")
    fresh.optimizer.build(fresh.trainable_variables)
    for target, source in zip(model.variables + model.optimizer.variables,
                              fresh.variables + fresh.optimizer.variables, strict=True):
        target.assign(source)
    return model


def empty_row(context: Dict[str, Any], status: str, reason: str) -> Dict[str, Any]:
    """The single row of a cell that trains no model (infeasible, or no completed trial)."""
    return dict(context, seed="", status=status, reason=reason)


def no_trial_row(run: RunDir, context: Dict[str, Any]) -> Dict[str, Any]:
    """The single final.csv row of a cell whose search found no completed trial."""
    trials = run.read("trials")
    mine = trials[(trials["family"] == context["family"]) & (trials["budget"] == int(context["budget"]))]
    infeasible = mine[mine["status"] == "infeasible"]
    status = "infeasible" if len(infeasible) == len(mine) and len(mine) else "failed"
    reasons = mine["reason"].dropna().astype(str)
    reason = reasons.iloc[0] if len(reasons) else "no trial finished"
    return empty_row(context, status, f"no completed trial in {len(mine)}: {reason}")


def hp_json(hp: kt.HyperParameters) -> str:
    return json.dumps({k: v for k, v in hp.values.items() if not k.startswith("tuner/")}, sort_keys=True)


def train_seeds(run: RunDir, table: str, context: Dict[str, Any], hypermodel: BudgetedHyperModel,
                hp: kt.HyperParameters, dataset, *, seeds: int, base_seed: int, report: Report, trial: str,
                model: Optional[keras.Model] = None, save_first: bool = False) -> None:
    """Trains ``hp`` with seeds ``base_seed`` … ``base_seed + seeds − 1`` and appends a row per
    seed to ``table``; seeds already there are skipped (resume).

    Every seed trains the same architecture: ``model`` (traced already) if given, else the
    first seed's, restarted from each seed's fresh weights (:func:`restart_from`).
    With ``save_first`` the first seed's model is saved to models/ before its row is
    written, so a row always has its model on disk.
    """
    done = run.keys(table)
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
        result = hypermodel.train(model, dataset.x_train, dataset.y_train, (dataset.x_val, dataset.y_val), seed)
        train_s = time.perf_counter() - start
        test_loss, test_accuracy = model.evaluate(dataset.x_test, dataset.y_test, verbose=0, batch_size=512)
        if save_first and i == 0:
            run.save_model(model, context["family"], context["budget"])
        solution = hypermodel.solve(hp)
        row = dict(context, seed=seed, status="completed", reason="", trial=trial, hp=hp_json(hp),
                   widths=solution.label, params=trainable_parameters(model), test_accuracy=float(test_accuracy),
                   test_loss=float(test_loss), val_accuracy=result.val_accuracy, val_loss=result.val_loss,
                   best_step=result.best_step, steps=result.steps, converged=result.converged,
                   gain_last_fifth=result.gain_last_fifth, diverged=result.diverged, train_s=train_s)
        for written in run.append(table, [row]):
            report(written)


def run_final(run: RunDir, context: Dict[str, Any], hypermodel: BudgetedHyperModel, tuner, dataset, *, seeds: int,
              base_seed: int, report: Report) -> None:
    """Retrains the search's best configuration with ``seeds`` seeds into final.csv; the first
    seed's model is kept as models/<family>__<budget>.keras."""
    best = best_trial(tuner)
    if best is None:
        for row in run.append("final", [no_trial_row(run, context)]):
            report(row)
        return
    train_seeds(run, "final", context, hypermodel, best.hyperparameters, dataset, seeds=seeds, base_seed=base_seed,
                report=report, trial=best.trial_id, model=hypermodel.trained_model(best.hyperparameters),
                save_first=True)


def recipe(hypermodel: BudgetedHyperModel) -> kt.HyperParameters:
    """The plain recipe of the cell: every shared and family hyperparameter at its default."""
    hp = kt.HyperParameters()
    hp.values.update(hypermodel.recipe_values())
    hypermodel.choices(hp)  # declares them
    return hp


def run_baseline(run: RunDir, context: Dict[str, Any], hypermodel: BudgetedHyperModel, dataset, *, seeds: int,
                 base_seed: int, report: Report) -> None:
    """Trains the plain recipe with ``seeds`` seeds into baseline.csv (no tuning at all).

    A seed the final evaluation already trained with the same configuration (the search chose
    the recipe) is copied from final.csv, marked ``trial='recipe (final seed)'``: the
    computation would be the same to the bit.
    """
    hp = recipe(hypermodel)
    solution = hypermodel.solve(hp)
    if not solution.feasible:
        for row in run.append("baseline", [empty_row(context, "infeasible", f"the recipe cannot meet the budget: "
                                                                            f"{solution.reason}")]):
            report(row)
        return
    final = run.read("final")
    same = final[(final["family"] == context["family"]) & (final["budget"] == int(context["budget"]))
                 & (final["status"] == "completed") & (final["hp"] == hp_json(hp))]
    reused = [dict(row, trial="recipe (final seed)") for row in same.to_dict("records")
              if base_seed <= int(row["seed"]) < base_seed + seeds]
    for row in run.append("baseline", reused):
        report(row)
    train_seeds(run, "baseline", context, hypermodel, hp, dataset, seeds=seeds, base_seed=base_seed, report=report,
                trial="recipe", model=hypermodel.trained_model(hp))
