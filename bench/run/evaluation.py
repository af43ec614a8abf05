"""Training a fixed configuration with several seeds and evaluating it once on the test split.

Two stages of a cell do this: the **final evaluation** (the search's best configuration,
final.csv) and the **plain-recipe baseline** (every hyperparameter at its default, untuned,
baseline.csv). Seed i feeds the same batches to every family and both stages, so families
can be compared seed by seed; a baseline seed whose configuration the search chose anyway
is the final seed's row, not a second identical training.

Seeds missing from a table are trained together (:mod:`bench.run.training`), up to the
protocol's ``together`` per program, and each writes: which test images it got right
(correct.csv), its validation curve (curves.csv), then its row, with the trainable parameter
count of the model itself. The row comes last, so a seed with a row has everything.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional, Sequence

import keras
import keras_tuner as kt

from bench.compat import release_tf_graphs
from bench.run.backbone import trainable_parameters
from bench.run.hypermodel import BudgetedHyperModel
from bench.run.search_space import active_values, declared, hp_json
from bench.run.training import test_results
from bench.run.tuning import best_trial
from bench.store import RunDir
from bench.store.correct import pack

Report = Callable[[Dict[str, Any]], None]


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


def curve_rows(context: Dict[str, Any], stage: str, trial: str, seed, history) -> List[Dict[str, Any]]:
    """curves.csv rows of one model's validation history."""
    return [dict(context, stage=stage, trial=trial, seed=seed, **entry) for entry in history]


def train_seeds(run: RunDir, table: str, context: Dict[str, Any], hypermodel: BudgetedHyperModel,
                hp: kt.HyperParameters, dataset, *, seeds: Sequence[int], report: Report, trial: str,
                save_seed: Optional[int] = None) -> None:
    """Trains ``hp`` with every seed of ``seeds`` not yet in ``table`` and writes its rows,
    up to the protocol's ``together`` seeds per program (:func:`train_group`)."""
    done = run.keys(table)
    family, budget = context["family"], int(context["budget"])
    missing = [s for s in seeds if (family, budget, str(s)) not in done]
    together = hypermodel.protocol.together
    for start in range(0, len(missing), together):
        train_group(run, table, context, hypermodel, hp, dataset, missing[start:start + together], report=report,
                    trial=trial, save_seed=save_seed)


def train_group(run: RunDir, table: str, context: Dict[str, Any], hypermodel: BudgetedHyperModel,
                hp: kt.HyperParameters, dataset, group: Sequence[int], *, report: Report, trial: str,
                save_seed: Optional[int] = None) -> List[Dict[str, Any]]:
    """Trains ``hp`` with the seeds of ``group`` as one program, tests each once and writes
    what it got right, its curve, then its row; returns the rows written.

    With ``save_seed`` in the group, that seed's model is saved to models/ before its row is
    written, so a row always has its model on disk.
    """
    family, budget = context["family"], int(context["budget"])
    keras.backend.clear_session()
    release_tf_graphs()
    models = hypermodel.build_seeds(hp, list(group))
    results = hypermodel.train(models, list(group), hp, dataset.x_train, dataset.y_train,
                               (dataset.x_val, dataset.y_val))
    tested = test_results(models, dataset.x_test, dataset.y_test, hypermodel.protocol)
    if save_seed in group:
        run.save_model(models[list(group).index(save_seed)], family, budget)
    solution = hypermodel.solve(hp)
    rows, correct, curves = [], [], []
    for seed, model, result, (right, test_loss) in zip(group, models, results, tested):
        correct.append(dict(context, stage=table, seed=seed, images=len(right), correct=pack(right)))
        curves += curve_rows(context, table, trial, seed, result.history)
        rows.append(dict(context, seed=seed, status="completed", reason="", trial=trial,
                         hp=hp_json(hypermodel.choices, hp.values),
                         widths=solution.label, params=trainable_parameters(model),
                         test_accuracy=float(right.mean()), test_correct=int(right.sum()), test_loss=test_loss,
                         val_accuracy=result.val_accuracy, val_loss=result.val_loss, best_step=result.best_step,
                         steps=result.steps, converged=result.converged, gain_last_fifth=result.gain_last_fifth,
                         loss_drop_last_fifth=result.loss_drop_last_fifth, diverged=result.diverged,
                         train_s=result.wall_s))
    run.append("correct", correct)
    run.append("curves", curves)
    written = run.append(table, rows)
    for row in written:
        report(row)
    return written


def final_configuration(run: RunDir, context: Dict[str, Any], hypermodel: BudgetedHyperModel, tuner=None):
    """(trial id, hyperparameters) of the cell's final evaluation: what its final rows were
    trained with, or else the search's best trial; None when the search completed no trial."""
    final = run.read("final")
    rows = final[(final["family"] == context["family"]) & (final["budget"] == int(context["budget"]))
                 & (final["status"] == "completed")]
    if len(rows):
        return str(rows["trial"].iloc[0]), declared(hypermodel.choices, json.loads(rows["hp"].iloc[0]))
    best = best_trial(tuner) if tuner is not None else None
    if best is None:
        return None
    return best.trial_id, declared(hypermodel.choices, active_values(hypermodel.choices, best.hyperparameters.values))


def run_final(run: RunDir, context: Dict[str, Any], hypermodel: BudgetedHyperModel, tuner, dataset, *,
              seeds: Sequence[int], report: Report) -> None:
    """Retrains the search's best configuration with ``seeds`` into final.csv; the first
    seed's model is kept as models/<family>__<budget>.keras."""
    chosen = final_configuration(run, context, hypermodel, tuner)
    if chosen is None:
        for row in run.append("final", [no_trial_row(run, context)]):
            report(row)
        return
    trial, hp = chosen
    train_seeds(run, "final", context, hypermodel, hp, dataset, seeds=seeds, report=report, trial=trial,
                save_seed=min(seeds))


def recipe(hypermodel: BudgetedHyperModel) -> kt.HyperParameters:
    """The plain recipe of the cell: every shared and family hyperparameter at its default."""
    return declared(hypermodel.choices, hypermodel.recipe_values())


def run_baseline(run: RunDir, context: Dict[str, Any], hypermodel: BudgetedHyperModel, dataset, *,
                 seeds: Sequence[int], report: Report) -> None:
    """Trains the plain recipe with ``seeds`` into baseline.csv (no tuning at all); see
    :func:`baseline_recipe` for what is recorded without training."""
    hp = baseline_recipe(run, context, hypermodel, seeds=seeds, report=report)
    if hp is not None:
        train_seeds(run, "baseline", context, hypermodel, hp, dataset, seeds=seeds, report=report, trial="recipe")


def baseline_recipe(run: RunDir, context: Dict[str, Any], hypermodel: BudgetedHyperModel, *, seeds: Sequence[int],
                    report: Report) -> Optional[kt.HyperParameters]:
    """The cell's plain recipe for its baseline seeds, after recording what needs no training:
    a recipe that cannot meet the budget (an infeasible row; then None), and every seed the
    final evaluation already trained with the same configuration (the search chose the
    recipe), copied from final.csv, correct.csv and curves.csv and marked
    ``trial='recipe (final seed)'``: the computation would be the same to the bit."""
    hp = recipe(hypermodel)
    solution = hypermodel.solve(hp)
    if not solution.feasible:
        for row in run.append("baseline", [empty_row(context, "infeasible", f"the recipe cannot meet the budget: "
                                                                            f"{solution.reason}")]):
            report(row)
        return None
    final = run.read("final")
    cell = lambda t: (t["family"] == context["family"]) & (t["budget"] == int(context["budget"]))  # noqa: E731
    same = final[cell(final) & (final["status"] == "completed")
                 & (final["hp"] == hp_json(hypermodel.choices, hp.values))]
    reused = [dict(row, trial="recipe (final seed)") for row in same.to_dict("records") if int(row["seed"]) in seeds]
    if reused:
        copied = {str(row["seed"]) for row in reused}
        for name in ("correct", "curves"):
            stored = run.read(name)
            chosen = stored[cell(stored) & (stored["stage"] == "final") & stored["seed"].astype(str).isin(copied)]
            run.append(name, [dict(r, stage="baseline") for r in chosen.to_dict("records")])
        for row in run.append("baseline", reused):
            report(row)
    return hp
