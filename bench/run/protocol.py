"""The training protocol: how every model of a run is trained, counted in optimizer steps.

Every trial, final seed and baseline model of every family is trained the same way:

- ``steps`` optimizer steps of Adam at ``batch_size``, fed from a repeated, reshuffled
  ``tf.data`` pipeline (on these small images Keras's per-epoch overhead, not arithmetic,
  dominates: a repeated pipeline costs about half of short epochs);
- the learning rate rises linearly from 0 over the first ``warmup`` fraction of the steps,
  then follows a cosine decay to 0 at the last step;
- the validation split is evaluated every ``eval_every`` steps, and the best checkpoint
  (highest validation accuracy, ties to the lower validation loss) is restored at the end:
  retrospective checkpoint selection, never early stopping;
- a model *has not converged* when its validation accuracy was still improving in the last
  fifth of the steps: when the best accuracy there beats the best before by more than the
  validation set can resolve (one standard error of that accuracy, at least one image).

The data order is seeded by the training seed alone, so seed i feeds the same batches to
every family (paired comparisons rest on that).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import keras
import numpy as np

#: The share of the steps at the end in which a model must no longer be improving.
LAST_FRACTION = 0.2
#: How many images a validation batch holds (evaluation cost only; the numbers do not depend on it).
EVAL_BATCH = 512


@dataclass(frozen=True)
class Protocol:
    """Steps, batch, schedule and validation cadence, from the run's configuration."""

    steps: int
    batch_size: int
    warmup: float
    eval_every: int

    @classmethod
    def of(cls, config) -> "Protocol":
        return cls(config.steps, config.batch_size, config.warmup, config.eval_every)

    def schedule(self, learning_rate: float) -> keras.optimizers.schedules.LearningRateSchedule:
        """Linear warm-up from 0 to ``learning_rate``, then cosine decay to 0 at the last step."""
        warm = int(round(self.warmup * self.steps))
        return keras.optimizers.schedules.CosineDecay(0.0, max(self.steps - warm, 1), alpha=0.0,
                                                      warmup_target=float(learning_rate), warmup_steps=warm)

    def describe(self) -> Dict[str, object]:
        """The protocol as run.json records it."""
        return {"steps": self.steps, "batch_size": self.batch_size, "optimizer": "adam",
                "schedule": f"linear warm-up over {self.warmup:.0%} of the steps, then cosine decay to 0",
                "validate_every_steps": self.eval_every, "checkpoint": "best validation accuracy (ties: lower loss), "
                                                                       "restored at the end",
                "not_converged_when": f"validation accuracy still improving in the last {LAST_FRACTION:.0%} of the "
                                      f"steps by more than one standard error (at least one image)"}


@dataclass
class TrainResult:
    """What one training run reached, at its best checkpoint.

    Attributes:
        val_accuracy, val_loss: at the best checkpoint (NaN if the model diverged before
            the first validation).
        best_step: the step of the best checkpoint.
        steps: the optimizer steps run (fewer than the protocol's only if the loss diverged).
        converged: False when validation accuracy still improved in the last fifth.
        gain_last_fifth: best validation accuracy in the last fifth minus the best before it.
        diverged: the training loss became NaN or infinite.
        wall_s: seconds of training.
        history: one dict per validation (step, loss, val_accuracy, val_loss).
    """

    val_accuracy: float
    val_loss: float
    best_step: int
    steps: int
    converged: bool
    gain_last_fifth: float
    diverged: bool
    wall_s: float
    history: List[Dict[str, float]] = field(default_factory=list)

    def metrics(self) -> Dict[str, float]:
        """The numbers a trial reports to keras-tuner (floats)."""
        return {"val_accuracy": self.val_accuracy if math.isfinite(self.val_accuracy) else 0.0,
                "val_loss": self.val_loss, "best_step": float(self.best_step), "steps": float(self.steps),
                "converged": float(self.converged), "gain_last_fifth": self.gain_last_fifth,
                "diverged": float(self.diverged), "wall_s": self.wall_s}


def convergence(history: List[Dict[str, float]], steps: int, n_val: int) -> tuple:
    """(converged, gain): whether validation accuracy had stopped improving by the last fifth.

    ``gain`` is the best validation accuracy after ``(1 - LAST_FRACTION)·steps`` minus the best
    before; the model has converged when the gain is within one standard error of the earlier
    best, sqrt(p(1 − p) / n_val), and never less than one image (1 / n_val).
    """
    cut = (1 - LAST_FRACTION) * steps
    before = [h["val_accuracy"] for h in history if h["step"] <= cut and math.isfinite(h["val_accuracy"])]
    after = [h["val_accuracy"] for h in history if h["step"] > cut and math.isfinite(h["val_accuracy"])]
    if not before or not after:
        return (not after), 0.0  # nothing to compare: too few validations to tell, or none late
    best_before, gain = max(before), max(after) - max(before)
    tolerance = max(1.0 / n_val, math.sqrt(best_before * (1 - best_before) / n_val))
    return bool(gain <= tolerance + 1e-9), float(gain)


class _BestCheckpoint(keras.callbacks.Callback):
    """Keeps the weights of the best validation so far and restores them at the end."""

    def __init__(self, eval_every: int):
        super().__init__()
        self.eval_every, self.history, self.best, self.weights = eval_every, [], None, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        entry = {"step": (epoch + 1) * self.eval_every, "loss": float(logs.get("loss", math.nan)),
                 "val_accuracy": float(logs.get("val_accuracy", math.nan)),
                 "val_loss": float(logs.get("val_loss", math.nan))}
        self.history.append(entry)
        score = (entry["val_accuracy"], -entry["val_loss"])
        if all(math.isfinite(v) for v in score) and (self.best is None or score > self.best[0]):
            self.best = (score, entry)
            self.weights = [np.array(w) for w in self.model.get_weights()]

    def on_train_end(self, logs=None):
        if self.weights is not None:
            self.model.set_weights(self.weights)


def batches(x, y, batch_size: int, seed: int):
    """The training stream: shuffled with ``seed``, reshuffled every pass, repeated forever."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y))
    data = data.shuffle(len(y), seed=int(seed), reshuffle_each_iteration=True).repeat()
    return data.batch(batch_size, drop_remainder=len(y) >= batch_size).prefetch(2)


def train(model: keras.Model, x, y, x_val, y_val, protocol: Protocol, seed: int, callbacks=()) -> TrainResult:
    """Trains a compiled ``model`` by ``protocol`` and leaves it at its best checkpoint.

    ``callbacks`` are further Keras callbacks that only observe (``wsbench speed --fits``
    times the epochs with one); they run after the protocol's own.
    """
    checkpoint = _BestCheckpoint(protocol.eval_every)
    if not model.optimizer.built:  # built outside the traced step, the step is traced with the slots in place
        model.optimizer.build(model.trainable_variables)
    start = time.perf_counter()
    model.fit(batches(x, y, protocol.batch_size, seed), steps_per_epoch=protocol.eval_every,
              epochs=protocol.steps // protocol.eval_every, validation_data=(x_val, y_val),
              validation_batch_size=EVAL_BATCH, callbacks=[checkpoint, keras.callbacks.TerminateOnNaN(), *callbacks], shuffle=False,
              verbose=0)
    wall = time.perf_counter() - start
    history = checkpoint.history
    diverged = any(not math.isfinite(h["loss"]) for h in history) or len(history) < protocol.steps // protocol.eval_every
    steps_run = history[-1]["step"] if history else 0
    converged, gain = convergence(history, protocol.steps, len(y_val))
    if checkpoint.best is None:
        return TrainResult(math.nan, math.nan, 0, steps_run, False, 0.0, True, wall, history)
    best = checkpoint.best[1]
    return TrainResult(best["val_accuracy"], best["val_loss"], int(best["step"]), steps_run,
                       converged and not diverged, gain, diverged, wall, history)
