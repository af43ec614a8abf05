"""Fair tuning by construction: a keras-tuner oracle with common random numbers.

For a family × budget cell, trial i is drawn like this:

- trial 0 is the **plain recipe**: every hyperparameter at its default (shared ones and the
  family's own), so no family is ever tuned below its untuned configuration;
- the shared nuisance hyperparameters (learning rate, dropout, kernel size) of trial i ≥ 1
  are point i of a scrambled Halton sequence (low-discrepancy, as the Deep Learning Tuning
  Playbook recommends for comparisons) seeded by the run seed alone: **the same values at
  trial i for every family**, whatever the family's own hyperparameters;
- the family's own hyperparameters come from a separate stream, keyed by (run seed,
  family, trial, redraw): drawing them never shifts the shared values;
- a draw that cannot meet the budget is **redrawn**, never run and never counted: every
  cell ends with exactly ``max_trials`` trials that ran. A shared choice no configuration
  of the family can meet (e.g. a kernel size too large for the budget) is left out of that
  cell's choices up front, and the uniform number is mapped onto the choices that remain.

Draws depend on (seed, family, trial index) only, so a resumed search, a ``--jobs`` worker
and a distributed chief draw exactly the same trials.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Tuple

import keras_tuner as kt
from scipy.stats import qmc

from bench.run.search_space import Declare, defaults, draw_values, stream_uniform

#: Family redraws tried before a trial is run anyway (it then fails as infeasible, named).
MAX_REDRAWS = 1000


class CommonNumbersOracle(kt.Oracle):
    """Draws trial i as the module docstring says.

    Args:
        shared: declares the shared hyperparameters.
        family: declares the family's own hyperparameters.
        family_name: keys the family's stream.
        feasible: whether a full set of values meets the budget.
        choices: shared Choice hyperparameter → the values this cell may take.
        seed: the run seed.
        max_trials: trials per cell.
        sequence: 'halton' (scrambled Halton points) or 'pseudo' (independent uniforms); both
            give every family the same shared values at trial i.
        **kwargs: passed to ``keras_tuner.Oracle``.
    """

    def __init__(self, *, shared: Declare, family: Declare, family_name: str, feasible: Callable[[Dict], bool],
                 choices: Dict[str, List[Any]], seed: int, max_trials: int, sequence: str = "halton", **kwargs):
        super().__init__(max_trials=max_trials, seed=seed + 1, **kwargs)  # keras-tuner takes seed 0 as 'random'
        self.shared, self.family, self.family_name = shared, family, family_name
        self.feasible, self.choices, self.run_seed, self.sequence = feasible, choices, seed, sequence
        self._names = list(defaults(shared))
        self._points = (qmc.Halton(d=len(self._names), scramble=True, seed=seed).random(max(max_trials, 1))
                        if sequence == "halton" else None)

    # -- drawing -------------------------------------------------------------------------
    def shared_uniform(self, index: int) -> Callable[[str], float]:
        """The uniform numbers of trial ``index``'s shared values: point ``index`` of the
        sequence (point 0 serves trial 0 only when the recipe cannot meet the budget)."""
        if self._points is not None:
            point = self._points[index % len(self._points)]
            return lambda name: float(point[self._names.index(name)])
        return stream_uniform("shared", self.run_seed, index)

    def draw(self, index: int) -> Tuple[Dict[str, Any], int, bool]:
        """(values, family redraws, is the recipe) of trial ``index``."""
        if index == 0:
            recipe = {**defaults(self.shared), **defaults(self.family)}
            if self.feasible(recipe):
                return recipe, 0, True
        shared = draw_values(self.shared, self.shared_uniform(index), self.choices)
        values = {}
        for redraw in range(MAX_REDRAWS):
            own = draw_values(self.family, stream_uniform("family", self.run_seed, self.family_name, index, redraw))
            values = {**shared, **own}
            if self.feasible(values):
                return values, redraw, False
        return values, MAX_REDRAWS, False

    def populate_space(self, trial_id: str) -> Dict[str, Any]:
        values, _, _ = self.draw(int(trial_id))
        return {"status": kt.engine.trial.TrialStatus.RUNNING, "values": values}

    # -- ranking -------------------------------------------------------------------------
    def get_best_trials(self, num_trials: int = 1):
        """Completed trials by validation accuracy, ties broken by the lower validation loss
        (on a small validation set many trials tie on accuracy)."""
        def key(trial) -> Tuple[float, float]:
            loss = _metric(trial, "val_loss")
            return (-(trial.score if trial.score is not None else -math.inf), loss if math.isfinite(loss) else math.inf)

        done = [t for t in self.trials.values() if t.status == kt.engine.trial.TrialStatus.COMPLETED]
        return sorted(done, key=key)[:num_trials]


def _metric(trial, name: str) -> float:
    return float(trial.metrics.get_last_value(name)) if trial.metrics.exists(name) else math.nan


def draw_info(oracle, trial_id: str) -> Tuple[Optional[int], Optional[bool]]:
    """(family redraws, is the recipe) of a trial, when ``oracle`` draws by common numbers."""
    if not isinstance(oracle, CommonNumbersOracle):
        return None, None
    _, redraws, recipe = oracle.draw(int(trial_id))
    return redraws, recipe
