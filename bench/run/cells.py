"""One family × budget cell of a run: its search, then its final evaluation.

Cells share nothing but the run directory, so they can run one after another, side by side
in ``--jobs`` processes, or as distributed searches. A cell that no configuration can meet
is recorded as infeasible without building a model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Tuple

from bench.run.config import BenchConfig
from bench.run.distributed import Role
from bench.run.evaluation import run_final
from bench.run.hypermodel import BudgetedHyperModel
from bench.run.search_space import cell_infeasibility
from bench.run.tuning import run_search
from bench.store import RunDir


def infeasible_cells(config: BenchConfig, input_shape, num_classes) -> Dict[Tuple[str, int], str]:
    """(family, budget) → why no configuration of the family can meet the budget, for the
    cells where none can (see :func:`bench.run.search_space.cell_infeasibility`)."""
    out = {}
    for family in config.families:
        for budget in config.budgets:
            reason = cell_infeasibility(family, input_shape, num_classes, budget, tolerance=config.tolerance,
                                        depth=config.depth, head=config.head)
            if reason is not None:
                out[(family, budget)] = reason
    return out


def infeasible_rows(context: Dict[str, Any], reason: str) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The trials.csv and final.csv rows of a cell that no configuration can meet."""
    reason = f"no configuration meets the budget: {reason}"
    trial = dict(context, trial_index=0, trial_id="cell", status="infeasible", reason=reason, hp="", width=None,
                 params=None, val_accuracy=None, val_loss=None, epochs=None, wall_s=None)
    final = dict(context, seed="", status="infeasible", reason=reason, best_hp="", width=None, params=None,
                 test_accuracy=None, test_loss=None, epochs=None, train_s=None)
    return trial, final


def cell_runner(config: BenchConfig, dataset, run: RunDir, infeasible: Dict[Tuple[str, int], str], *,
                role: Role = Role(), workers=()):
    """A function ``run_cell(family, budget, index, *, on_trial, on_final)`` that runs (or
    resumes) one family × budget cell of this run: its search and, unless distributed, its
    final evaluation. Returns (context, hypermodel, tuner), or None for a cell in
    ``infeasible``, which is recorded as such without building a model.

    The test split is only handed to the final evaluation, never to the search.
    """
    search_data = {"x_train": dataset.x_train, "y_train": dataset.y_train, "x_val": dataset.x_val,
                   "y_val": dataset.y_val}

    def run_cell(family: str, budget: int, index: int, *, on_trial, on_final):
        context = {"run_id": config.run_name, "dataset": config.dataset, "family": family, "budget": budget}
        if (family, budget) in infeasible:
            if role.kind != "worker":
                trial, final = infeasible_rows(context, infeasible[(family, budget)])
                run.append("trials", [trial])
                for row in run.append("final", [final]):
                    on_final(row)
            return None
        hypermodel = BudgetedHyperModel(family, dataset.input_shape, dataset.num_classes, budget, config)
        tuner = run_search(run, context, hypermodel, search_data, tuner_kind=config.tuner, max_trials=config.max_trials,
                           epochs=config.epochs, batch_size=config.batch_size, seed=config.seed, report=on_trial,
                           role=role, search_index=index, workers=workers)
        if not role.distributed:
            # Single process: evaluate each cell as soon as its search ends.
            run_final(run, context, hypermodel, tuner, dataset, seeds=config.seeds, base_seed=config.seed,
                      report=on_final)
        return context, hypermodel, tuner

    return run_cell


def open_cells(config: BenchConfig):
    """The cell runner of a run that :mod:`bench.run.runner` has already validated and opened;
    used by ``--jobs`` worker processes, which write nothing but rows."""
    import tensorflow as tf

    from bench.data import load_dataset

    tf.config.experimental.enable_op_determinism()
    dataset = load_dataset(config.dataset, val_fraction=config.val_fraction, seed=config.seed)
    infeasible = infeasible_cells(config, dataset.input_shape, dataset.num_classes)
    return cell_runner(config, dataset, RunDir(Path(config.results_dir) / config.run_name), infeasible)
