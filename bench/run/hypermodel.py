"""The keras-tuner HyperModel: one family's backbone at a fixed parameter budget.

Shared hyperparameters (identical for every family) and the family's own come from
:mod:`bench.run.search_space`. Width is solved, not tuned (see :mod:`bench.run.budget`), once
per configuration: every later use of the same choices gets the same solution back. Every
model is trained by the run's :mod:`protocol <bench.run.protocol>`; the solved widths and the
actual parameter count are returned from :meth:`BudgetedHyperModel.fit` as metrics, because
``hp.Fixed`` cannot carry a per-trial derived value.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

import keras
import keras_tuner as kt

from bench.run.backbone import build_backbone, trainable_parameters
from bench.run.budget import BudgetSolution, solve_width
from bench.run.config import BenchConfig
from bench.run.counts import describe_model, refuse_miscounted
from bench.run.protocol import Protocol
from bench.run.search_space import declared, defaults, feasible_kernel_sizes, shared_hyperparameters
from bench.run.training import TrainResult, train_together
from layers import get_family

INFEASIBLE_PREFIX = "infeasible: "


class BudgetedHyperModel(kt.HyperModel):
    """Builds and trains ``family``'s backbone at ``budget`` trainable parameters.

    Args:
        family: registered family name.
        input_shape: (H, W, C) of the images.
        num_classes: number of classes.
        budget: target trainable parameter count.
        settings: the run's configuration (the backbone, the budget tolerance).
        protocol: how every model is trained (default: the configuration's; none is needed
            to solve budgets, so a run choosing its steps may leave it out until it has).
    """

    def __init__(self, family: str, input_shape: Tuple[int, int, int], num_classes: int, budget: int,
                 settings: BenchConfig, protocol: Optional[Protocol] = None):
        super().__init__(name=f"{family}_{budget}")
        self.family = family
        self.input_shape = tuple(int(v) for v in input_shape)
        self.num_classes = int(num_classes)
        self.budget = int(budget)
        self.settings = settings
        self.protocol = protocol if protocol is not None or settings.steps == "auto" else Protocol.of(settings)
        self._kernel_reasons: Optional[Dict[int, str]] = None
        self._solutions: Dict[Tuple[int, str], BudgetSolution] = {}  # one solve per configuration
        #: trial id → the validation history of the model its last fit trained (curves.csv).
        self.histories: Dict[str, List[Dict[str, float]]] = {}
        self.trial_id: Optional[str] = None  # set by the tuner before it trains a trial

    # -- the search space ------------------------------------------------------------------
    @staticmethod
    def shared_space(hp: kt.HyperParameters) -> Dict[str, Any]:
        return shared_hyperparameters(hp)

    def family_space(self, hp: kt.HyperParameters) -> Dict[str, Any]:
        return get_family(self.family).hyperparameters(hp)

    def choices(self, hp: kt.HyperParameters) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """(shared values, family keyword arguments) for ``hp``, declaring them as needed."""
        return self.shared_space(hp), self.family_space(hp)

    def solve(self, hp: kt.HyperParameters) -> BudgetSolution:
        """The widths solution for ``hp``'s choices (see :func:`bench.run.budget.solve_width`)."""
        shared, family_hp = self.choices(hp)
        return self._solve(shared["kernel_size"], family_hp)

    def _solve(self, kernel_size: int, family_hp: Dict[str, Any]) -> BudgetSolution:
        key = (int(kernel_size), json.dumps(family_hp, sort_keys=True))
        if key not in self._solutions:
            s = self.settings
            self._solutions[key] = solve_width(self.family, self.input_shape, self.num_classes, self.budget,
                                               tolerance=s.tolerance, depth=s.depth, kernel_size=int(kernel_size),
                                               head=s.head, padding=s.padding, family_hp=family_hp)
        return self._solutions[key]

    def feasible(self, values: Dict[str, Any]) -> bool:
        """Whether a full set of hyperparameter values meets the budget."""
        return self.solve(declared(lambda hp: self.choices(hp), values)).feasible

    def kernel_reasons(self) -> Dict[int, str]:
        """Kernel size → '' if some configuration of the family meets the budget with it, else why not."""
        if self._kernel_reasons is None:
            self._kernel_reasons = feasible_kernel_sizes(self._solve, self.family)
        return self._kernel_reasons

    def shared_choices(self) -> Dict[str, List[Any]]:
        """The shared choices this cell may take: the kernel sizes some configuration can meet."""
        return {"kernel_size": [k for k, reason in self.kernel_reasons().items() if not reason]}

    # -- building and training -------------------------------------------------------------
    def build(self, hp: kt.HyperParameters) -> keras.Model:
        """The compiled model of ``hp``'s choices at the solved widths. A choice that cannot meet
        the budget still builds (at the closest widths: keras-tuner builds the defaults to learn
        the search space, and they may be such a choice); it is refused when trained."""
        shared, family_hp = self.choices(hp)
        solution = self.solve(hp)
        s = self.settings
        model = build_backbone(self.family, self.input_shape, self.num_classes, solution.widths, depth=s.depth,
                               kernel_size=shared["kernel_size"], dropout=shared["dropout"], head=s.head,
                               padding=s.padding, family_hp=family_hp)
        refuse_miscounted(model, self.family, solution.params, describe_model(  # never trained off its budget
            self.input_shape, solution.widths, shared["kernel_size"], s.padding, s.head, family_hp))
        return self.protocol.compile(model, shared["learning_rate"])

    def build_seeds(self, hp: kt.HyperParameters, seeds: List[int]) -> List[keras.Model]:
        """One model of ``hp``'s configuration per seed, each initialised by its seed alone
        (built right after ``keras.utils.set_random_seed(seed)``) and named after it."""
        models = []
        for seed in seeds:
            keras.utils.set_random_seed(int(seed))
            model = self.build(hp)
            model.name = f"{self.family}_seed{seed}"
            models.append(model)
        return models

    def train(self, models: List[keras.Model], seeds: List[int], hp: kt.HyperParameters, x, y, validation_data,
              callbacks=()) -> List[TrainResult]:
        """Trains ``models`` (``hp``'s configuration, one per seed) together by the run's protocol."""
        x_val, y_val = validation_data
        return train_together(models, seeds, x, y, x_val, y_val, self.protocol, self.choices(hp)[0]["learning_rate"],
                              self.num_classes, callbacks=callbacks)

    def fit(self, hp, model, x, y, validation_data=None, seed: int = 0, **kwargs):
        """Trains one trial by the protocol (keras-tuner's own callbacks are not needed: the best
        checkpoint is restored in memory); returns the best checkpoint's metrics plus
        ``params`` and ``width``."""
        solution = self.solve(hp)
        if not solution.feasible:
            # FailedTrialError ends this trial only; the search goes on.
            raise kt.errors.FailedTrialError(INFEASIBLE_PREFIX + solution.reason)
        model.name = f"{self.family}_seed{seed}"
        result = self.train([model], [seed], hp, x, y, validation_data)[0]
        if self.trial_id is not None:
            self.histories[self.trial_id] = result.history
        return {**result.metrics(), "params": float(trainable_parameters(model)), "width": float(solution.width)}

    def recipe_values(self) -> Dict[str, Any]:
        """The plain recipe: every shared and family hyperparameter at its default."""
        return {**defaults(self.shared_space), **defaults(self.family_space)}
