"""One family × budget cell of a run: its search, then its final evaluation.

Cells share nothing but the run directory, so they can run one after another, side by side
in ``--jobs`` processes, or as distributed searches. A cell that no configuration can meet
is recorded as infeasible without building a model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Tuple

from bench.run.config import BenchConfig
from bench.run.distributed import Role
from bench import backend
from bench.run.containment import stage_failure_recorded
from bench.run.evaluation import empty_row, run_baseline, run_final
from bench.run.hypermodel import BudgetedHyperModel
from bench.run.tuning import run_search
from bench.store import RunDir


def infeasible_cells(config: BenchConfig, input_shape, num_classes) -> Dict[Tuple[str, int], str]:
    """(family, budget) → why no configuration of the family can meet the budget, for the
    cells where none can at any kernel size (see :meth:`BudgetedHyperModel.kernel_reasons`)."""
    out = {}
    for family in config.families:
        for budget in config.budgets:
            reasons = BudgetedHyperModel(family, input_shape, num_classes, budget, config).kernel_reasons()
            if all(reasons.values()):
                out[(family, budget)] = reasons[min(reasons)]
    return out


def infeasible_rows(context: Dict[str, Any], reason: str) -> Dict[str, Dict[str, Any]]:
    """table → the one row of a cell that no configuration can meet."""
    reason = f"no configuration meets the budget: {reason}"
    trial = dict(context, trial_index=0, trial_id="cell", status="infeasible", reason=reason)
    return {"trials": trial, "final": empty_row(context, "infeasible", reason),
            "baseline": empty_row(context, "infeasible", reason)}


#: The stages of a cell, in order; ``wsbench baseline`` runs only the last.
STAGES = ("search", "final", "baseline")


def cell_runner(config: BenchConfig, dataset, run: RunDir, infeasible: Dict[Tuple[str, int], str], protocol, *,
                role: Role = Role(), workers=(), stages: Tuple[str, ...] = STAGES):
    """A function ``run_cell(family, budget, index, *, seeds, on_trial, on_final)`` that runs (or
    resumes) the ``stages`` of one family × budget cell of this run: its search, its final
    evaluation with ``seeds`` seeds and its plain-recipe baseline (the last two after all
    searches when distributed). Returns (context, hypermodel, tuner), or None for a cell in
    ``infeasible``, which is recorded as such without building a model. Every model is trained
    by ``protocol`` (:class:`bench.run.protocol.Protocol`).

    The test split is only handed to the final evaluation and the baseline, never to the search.
    """
    search_data = {"x_train": dataset.x_train, "y_train": dataset.y_train, "x_val": dataset.x_val,
                   "y_val": dataset.y_val}

    def run_cell(family: str, budget: int, index: int, *, seeds: int, on_trial, on_final):
        context = {"run_id": config.run_name, "dataset": config.dataset, "family": family, "budget": budget}
        if (family, budget) in infeasible:
            if role.kind != "worker":
                for table, row in infeasible_rows(context, infeasible[(family, budget)]).items():
                    if table == "trials" or table in stages:
                        for written in run.append(table, [row]):
                            if table == "trials":  # says it once; the final and baseline rows repeat it
                                on_trial(written)
            return None
        hypermodel = BudgetedHyperModel(family, dataset.input_shape, dataset.num_classes, budget, config, protocol)
        tuner = None
        if "search" in stages:
            tuner = run_search(run, context, hypermodel, search_data, tuner_kind=config.tuner,
                               max_trials=config.max_trials, seed=config.seed, report=on_trial, role=role,
                               search_index=index, workers=workers)
        if not role.distributed:
            # Single process: evaluate each cell as soon as its search ends.
            finish_cell(run, config, context, hypermodel, tuner, dataset, on_final, stages, seeds)
        return context, hypermodel, tuner

    return run_cell


def finish_cell(run: RunDir, config: BenchConfig, context, hypermodel, tuner, dataset, report, stages=STAGES,
                seeds: int = 0) -> None:
    """The cell's final evaluation with ``seeds`` seeds (given its searched tuner, or the
    configuration its final rows already hold) and its baseline, as ``stages`` ask; a stage
    whose layer raises is recorded as failed (see :mod:`bench.run.containment`)."""
    if "final" in stages:
        with stage_failure_recorded(run, "final", context, report):
            run_final(run, context, hypermodel, tuner, dataset, seeds=seed_numbers(config, seeds), report=report)
    if "baseline" in stages and config.baseline_seeds:
        with stage_failure_recorded(run, "baseline", context, report):
            run_baseline(run, context, hypermodel, dataset, seeds=seed_numbers(config, config.baseline_seeds),
                         report=report)


def seed_numbers(config: BenchConfig, count: int) -> List[int]:
    """The training seeds of the first ``count`` seeds of a stage: the run seed, then up."""
    return [config.seed + i for i in range(count)]


def open_cells(config: BenchConfig, protocol, stages: Tuple[str, ...] = STAGES):
    """The cell runner of a run that :mod:`bench.run.runner` has already validated and opened;
    used by ``--jobs`` worker processes, which write nothing but rows."""
    from bench.data import load_dataset

    backend.configure(config)
    dataset = load_dataset(config.dataset, val_fraction=config.val_fraction, seed=config.seed)
    infeasible = infeasible_cells(config, dataset.input_shape, dataset.num_classes)
    return cell_runner(config, dataset, RunDir(Path(config.results_dir) / config.run_name), infeasible, protocol,
                       stages=stages)
