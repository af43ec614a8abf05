"""The search stage: one keras-tuner project per family × budget.

Every family gets the same tuner, trial count, training protocol and seeds.
Projects live under ``results/<run>/tuner/`` with ``overwrite=False`` so rerunning the
same command resumes each search where it stopped. Each finished trial becomes a row of
``trials.csv`` (completed, failed or infeasible, with the reason).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import keras
import keras_tuner as kt
import numpy as np

from bench.compat import (atomic_tuner_state, declaring_only, quiet_failed_trials, release_tf_graphs,
                          requeue_failed_trials, requeue_interrupted_trials)
from bench.run.containment import failed_trial_on_error
from bench.run.distributed import Role, keras_tuner_role, serve_search
from bench.run.hypermodel import INFEASIBLE_PREFIX, BudgetedHyperModel
from bench.run.oracle import draw_info
from bench.run.search_space import hp_json
from bench.run.tuners import Search, get_tuner
from bench.store import RunDir

OBJECTIVE = kt.Objective("val_accuracy", direction="max")
_FINISHED = (kt.engine.trial.TrialStatus.COMPLETED, kt.engine.trial.TrialStatus.FAILED,
             kt.engine.trial.TrialStatus.INVALID)


def project_name(family: str, budget: int) -> str:
    """The keras-tuner project of one cell, a directory name under ``results/<run>/tuner/``.

    A run has one dataset, so family and budget name a cell; the dataset (a user's path
    among them) never reaches a file name, where keras-tuner would join it to the tuner
    directory and a path would escape the run."""
    return f"{family}__{int(budget)}"


def trial_seed(base_seed: int, trial_id: str) -> int:
    """The training seed of one trial: fixed by the run seed and the trial's number."""
    return int(base_seed) * 100_003 + int(trial_id)


FAILED_TRIAL = "FailedTrialError: "


def _reason(message: Optional[str]) -> Tuple[str, str]:
    """(status, reason) of a failed trial from keras-tuner's traceback message: the error's
    type and message (e.g. 'ValueError: depth_multiplier=1 ...'), or why it was infeasible."""
    text = (message or "").strip()
    last = text.splitlines()[-1] if text else "unknown error"
    if INFEASIBLE_PREFIX in text:
        return "infeasible", text[text.index(INFEASIBLE_PREFIX) + len(INFEASIBLE_PREFIX):].splitlines()[0]
    # A FailedTrialError carries the original error's type and message (see failed_trial_on_error).
    return "failed", last.split(FAILED_TRIAL, 1)[-1]


def _retry(trial) -> bool:
    """Whether a finished trial is run again when its search is resumed: it failed (its layer
    raised), as opposed to being infeasible, which rerunning cannot change."""
    return INFEASIBLE_PREFIX not in (trial.message or "")


def trial_rows(oracle, hypermodel: BudgetedHyperModel, context: Dict[str, Any],
               walls: Dict[str, float]) -> List[Dict[str, Any]]:
    """trials.csv rows for every finished trial of ``oracle``, in creation order."""
    rows = []
    # By trial number: a reloaded oracle lists its trials in the file system's order.
    for index, (trial_id, trial) in enumerate(sorted(oracle.trials.items(), key=lambda kv: int(kv[0])), start=1):
        if trial.status not in _FINISHED:
            continue
        redraws, recipe = draw_info(oracle, trial_id)
        row = dict(context, trial_index=index, trial_id=trial_id, recipe=recipe, redraws=redraws,
                   hp=hp_json(hypermodel.choices, trial.hyperparameters.values), wall_s=walls.get(trial_id))
        if trial.status == kt.engine.trial.TrialStatus.COMPLETED:
            m = trial.metrics
            get = lambda name: m.get_last_value(name) if m.exists(name) else None  # noqa: E731
            row.update(status="completed", reason="", widths=hypermodel.solve(trial.hyperparameters).label,
                       params=int(get("params")),
                       val_accuracy=get("val_accuracy"), val_loss=get("val_loss"), best_step=int(get("best_step")),
                       steps=int(get("steps")), converged=bool(get("converged")),
                       gain_last_fifth=get("gain_last_fifth"), loss_drop_last_fifth=get("loss_drop_last_fifth"),
                       diverged=bool(get("diverged")), wall_s=get("wall_s"))
        else:
            row["status"], row["reason"] = _reason(trial.message)
        rows.append(row)
    return rows


def make_tuner(kind: str, hypermodel: BudgetedHyperModel, directory: Path, project: str, *, max_trials: int,
               seed: int, on_rows: Optional[Callable[[Any], None]],
               on_curve: Callable[[str, List[Dict[str, float]]], None] = lambda trial_id, history: None):
    """Builds a keras-tuner of ``kind`` whose trials report to ``on_rows(tuner)`` as they end
    (``None`` on distributed workers: the chief records what its oracle holds); whoever
    trains a trial hands its validation history to ``on_curve(trial_id, history)``."""
    tuner_kind = get_tuner(kind)
    quiet_failed_trials()
    atomic_tuner_state()

    class RecordingTuner(tuner_kind.keras_tuner_class):
        """Seeds every trial's training and records each finished trial."""

        #: trial id → wall time of the trial (the class is made for one search, so these are its own).
        walls: Dict[str, float] = {}
        started: Dict[str, float] = {}

        def on_trial_begin(self, trial):
            super().on_trial_begin(trial)
            release_tf_graphs()  # the previous trial's train graph would otherwise stay in memory
            self.started[trial.trial_id] = time.perf_counter()
            keras.utils.set_random_seed(trial_seed(seed, trial.trial_id) % (2**31))

        def run_trial(self, trial, *args, **kwargs):
            hypermodel.trial_id = trial.trial_id
            # The trial's data order: the same for trial i of every family. A layer that raises
            # fails this trial only.
            with failed_trial_on_error():
                return super().run_trial(trial, *args, seed=trial_seed(seed, trial.trial_id) % (2**31), **kwargs)

        def _populate_initial_space(self):
            # Declaring the space is enough: keras-tuner would build a model at the defaults.
            with declaring_only(self.hypermodel, hypermodel.choices):
                super()._populate_initial_space()

        def on_trial_end(self, trial):
            self.walls[trial.trial_id] = time.perf_counter() - self.started.get(trial.trial_id, time.perf_counter())
            if trial.trial_id in hypermodel.histories:
                on_curve(trial.trial_id, hypermodel.histories.pop(trial.trial_id))
            super().on_trial_end(trial)
            if on_rows is not None:
                on_rows(self)
            else:
                print(f"  {self.tuner_id} trained trial {trial.trial_id} of {project}: {trial.status.lower()}",
                      flush=True)

    search = Search(hypermodel=hypermodel, max_trials=max_trials, seed=seed, objective=OBJECTIVE)
    return RecordingTuner(hypermodel=hypermodel, directory=str(directory), project_name=project, overwrite=False,
                          **tuner_kind.arguments(search))


def best_trial(tuner):
    """The best completed trial, or None when every trial failed or was infeasible."""
    best = tuner.oracle.get_best_trials(1)
    if best and best[0].status == kt.engine.trial.TrialStatus.COMPLETED and best[0].score is not None \
            and math.isfinite(best[0].score):
        return best[0]
    return None


def run_search(run: RunDir, context: Dict[str, Any], hypermodel: BudgetedHyperModel, data: Dict[str, np.ndarray], *,
               tuner_kind: str, max_trials: int, seed: int,
               report: Callable[[Dict[str, Any]], None], role: Role = Role(), search_index: int = 0,
               workers=()):
    """Runs (or resumes) one family × budget search; appends its trials to trials.csv.

    Args:
        run: the run directory.
        context: run_id, dataset, family, budget (the key columns of every row).
        hypermodel: the budgeted hypermodel of this family and budget.
        data: x_train, y_train, x_val, y_val only; the test split is never passed in.
        report: called with each newly written trials.csv row (progress output).
        role: single process, distributed chief (serves the oracle, records) or worker
            (trains the trials the chief hands out).
        search_index: this search's number in the run (its port offset when distributed).
        workers: local worker processes the chief watches (see :mod:`bench.run.distributed`).

    Returns:
        The tuner, searched.
    """
    def record(tuner) -> None:
        for row in run.append("trials", trial_rows(tuner.oracle, hypermodel, context, tuner.walls)):
            report(row)

    def curve(trial_id: str, history) -> None:
        # Written by whoever trained the trial (a distributed worker too: the run directory
        # is shared over loopback); before the trial's row, so a row always has its curve.
        run.append("curves", [dict(context, stage="trial", trial=trial_id, seed="", **h) for h in history])

    fit_args = (data["x_train"], data["y_train"])
    fit_kwargs = dict(validation_data=(data["x_val"], data["y_val"]), verbose=0)
    with keras_tuner_role(role, search_index):
        tuner = make_tuner(tuner_kind, hypermodel, run.path / "tuner",
                           project_name(context["family"], context["budget"]),
                           max_trials=max_trials, seed=seed,
                           on_rows=record if role.kind == "single" else None, on_curve=curve)
        if role.kind == "worker":
            tuner.search(*fit_args, **fit_kwargs)
            return tuner
        requeue_interrupted_trials(tuner.oracle)  # a trial started just before a kill runs again
        requeue_failed_trials(tuner.oracle, _retry)  # and one whose layer raised (its row was removed)
        record(tuner)  # trials finished before an interruption but not yet written
        if role.kind == "chief":
            serve_search(lambda: tuner.search(*fit_args, **fit_kwargs), tuner.oracle,
                         record=lambda: record(tuner), workers=workers)
        else:
            tuner.search(*fit_args, **fit_kwargs)
        record(tuner)
    return tuner
