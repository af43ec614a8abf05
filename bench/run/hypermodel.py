"""The keras-tuner HyperModel: one family's backbone at a fixed parameter budget.

Shared hyperparameters (identical for every family): learning rate, kernel size, dropout.
Family hyperparameters come from the family's own declaration. Width is solved, not
tuned (see :mod:`bench.run.budget`); the solved width and the actual parameter count are
returned from :meth:`BudgetedHyperModel.fit` as metrics, because ``hp.Fixed`` cannot
carry a per-trial derived value.
"""

from __future__ import annotations

import math
import time
from typing import Any, Dict, Optional, Tuple

import keras
import keras_tuner as kt
import numpy as np

from bench.run.backbone import build_backbone, trainable_parameters
from bench.run.budget import solve_width
from bench.run.config import BenchConfig
from bench.run.search_space import shared_hyperparameters
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
        # The best-scoring model trained in this process, with its hyperparameter values: the
        # final stage restarts it instead of tracing the same architecture again.
        self._kept: Optional[Tuple[Dict[str, Any], float, keras.Model]] = None

    def choices(self, hp: kt.HyperParameters) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """(shared values, family keyword arguments) for ``hp``, declaring them as needed."""
        return shared_hyperparameters(hp), get_family(self.family).hyperparameters(hp)

    def solve(self, hp: kt.HyperParameters):
        """The width solution for ``hp``'s choices (see :func:`bench.run.budget.solve_width`)."""
        shared, family_hp = self.choices(hp)
        s = self.settings
        return solve_width(self.family, self.input_shape, self.num_classes, self.budget, tolerance=s.tolerance,
                           depth=s.depth, kernel_size=shared["kernel_size"], head=s.head, family_hp=family_hp)

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        shared, family_hp = self.choices(hp)
        s = self.settings
        solution = self.solve(hp)
        if not solution.feasible:
            # FailedTrialError ends this trial only; the search goes on.
            raise kt.errors.FailedTrialError(INFEASIBLE_PREFIX + solution.reason)
        model = build_backbone(self.family, self.input_shape, self.num_classes, solution.width, depth=s.depth,
                               kernel_size=shared["kernel_size"], dropout=shared["dropout"], head=s.head,
                               family_hp=family_hp)
        model.compile(optimizer=keras.optimizers.Adam(shared["learning_rate"]),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def fit(self, hp, model, x, y, validation_data=None, callbacks=None, **kwargs):
        """Trains with early stopping on validation loss; returns the best epoch's metrics
        plus ``params``, ``width``, ``epochs`` and ``wall_s``."""
        s = self.settings
        kwargs.setdefault("epochs", s.epochs)
        kwargs.setdefault("batch_size", s.batch_size)
        kwargs.setdefault("verbose", 0)
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=s.patience, restore_best_weights=True)
        start = time.perf_counter()
        history = model.fit(x, y, validation_data=validation_data,
                            callbacks=list(callbacks or []) + [stop, keras.callbacks.TerminateOnNaN()], **kwargs)
        wall = time.perf_counter() - start
        losses = history.history.get("val_loss", [])
        if not losses or not all(math.isfinite(v) for v in history.history.get("loss", [])):
            raise kt.errors.FailedTrialError("training diverged: the loss became NaN or infinite")
        best = int(np.argmin(losses))
        score = float(history.history["val_accuracy"][best])
        if self._kept is None or score > self._kept[1]:
            self._kept = (dict(hp.values), score, model)
        return {
            "val_accuracy": float(history.history["val_accuracy"][best]),
            "val_loss": float(losses[best]),
            "params": float(trainable_parameters(model)),
            "width": float(self.solve(hp).width),
            "epochs": float(len(losses)),
            "wall_s": float(wall),
        }

    def trained_model(self, hp: kt.HyperParameters) -> Optional[keras.Model]:
        """The model this hypermodel trained with exactly ``hp``'s values if it kept it (the
        best one trained in this process), else None."""
        if self._kept is not None and self._kept[0] == dict(hp.values):
            return self._kept[2]
        return None
