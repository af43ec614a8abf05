"""The keras-tuner HyperModel: one family's backbone at a fixed parameter budget.

Shared hyperparameters (identical for every family) and the family's own come from
:mod:`bench.run.search_space`. Width is solved, not tuned (see :mod:`bench.run.budget`);
the solved widths and the actual parameter count are returned from
:meth:`BudgetedHyperModel.fit` as metrics, because ``hp.Fixed`` cannot carry a per-trial
derived value. Every model is trained by the run's :mod:`protocol <bench.run.protocol>`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import keras
import keras_tuner as kt

from bench.run.backbone import build_backbone, trainable_parameters
from bench.run.budget import BudgetSolution, solve_width
from bench.run.config import BenchConfig
from bench.run.counts import describe_model, refuse_miscounted
from bench.run.protocol import Protocol, TrainResult, train
from bench.run.search_space import declared, defaults, feasible_kernel_sizes, shared_hyperparameters
from layers import get_family

INFEASIBLE_PREFIX = "infeasible: "


class BudgetedHyperModel(kt.HyperModel):
    """Builds and trains ``family``'s backbone at ``budget`` trainable parameters.

    Args:
        family: registered family name.
        input_shape: (H, W, C) of the images.
        num_classes: number of classes.
        budget: target trainable parameter count.
        settings: the run's configuration; how every family is trained comes from it.
    """

    def __init__(self, family: str, input_shape: Tuple[int, int, int], num_classes: int, budget: int,
                 settings: BenchConfig):
        super().__init__(name=f"{family}_{budget}")
        self.family = family
        self.input_shape = tuple(int(v) for v in input_shape)
        self.num_classes = int(num_classes)
        self.budget = int(budget)
        self.settings = settings
        self.protocol = Protocol.of(settings)
        self._kernel_reasons: Optional[Dict[int, str]] = None
        # The best-scoring model trained in this process, with its hyperparameter values, and the
        # last model of each configuration: the final and baseline stages restart one of them
        # instead of tracing the same architecture again.
        self._kept: Optional[Tuple[Dict[str, Any], Tuple[float, float], keras.Model]] = None
        self._recipe_model: Optional[keras.Model] = None

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
        s = self.settings
        return solve_width(self.family, self.input_shape, self.num_classes, self.budget, tolerance=s.tolerance,
                           depth=s.depth, kernel_size=kernel_size, head=s.head, padding=s.padding,
                           family_hp=family_hp)

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
        model.compile(optimizer=keras.optimizers.Adam(self.protocol.schedule(shared["learning_rate"])),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def train(self, model: keras.Model, x, y, validation_data, seed: int, callbacks=()) -> TrainResult:
        """Trains ``model`` by the run's protocol with data order ``seed`` (``callbacks`` only observe)."""
        x_val, y_val = validation_data
        return train(model, x, y, x_val, y_val, self.protocol, seed, callbacks=callbacks)

    def fit(self, hp, model, x, y, validation_data=None, seed: int = 0, **kwargs):
        """Trains by the protocol (keras-tuner's own callbacks are not needed: the best
        checkpoint is restored in memory); returns the best checkpoint's metrics plus
        ``params`` and ``width``."""
        solution = self.solve(hp)
        if not solution.feasible:
            # FailedTrialError ends this trial only; the search goes on.
            raise kt.errors.FailedTrialError(INFEASIBLE_PREFIX + solution.reason)
        result = self.train(model, x, y, validation_data, seed)
        score = (result.val_accuracy, -result.val_loss)
        if self._kept is None or score > self._kept[1]:
            self._kept = (dict(hp.values), score, model)
        if dict(hp.values) == self.recipe_values():
            self._recipe_model = model
        return {**result.metrics(), "params": float(trainable_parameters(model)), "width": float(solution.width)}

    def recipe_values(self) -> Dict[str, Any]:
        """The plain recipe: every shared and family hyperparameter at its default."""
        return {**defaults(self.shared_space), **defaults(self.family_space)}

    def trained_model(self, hp: kt.HyperParameters) -> Optional[keras.Model]:
        """A model this hypermodel trained with exactly ``hp``'s values if it kept one (the best
        one trained in this process, or the plain recipe's), else None."""
        if self._kept is not None and self._kept[0] == dict(hp.values):
            return self._kept[2]
        if self._recipe_model is not None and dict(hp.values) == self.recipe_values():
            return self._recipe_model
        return None
