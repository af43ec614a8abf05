"""Training several seeds of one configuration as one program, and testing them once.

The copies (one model per seed, each built after ``keras.utils.set_random_seed(seed)``) are
joined into one Keras model with one input and one output per copy and the sum of their
losses: a copy's gradients come from its own loss alone, Adam keeps moments per variable, and
the stream of copy i is seed i's alone (:func:`bench.run.protocol.batches`), so each copy
trains bit for bit as it would alone (a test checks it, for every family) while the steps of
all copies cost one call. Validation is one ``predict`` for all copies, keeping per image
whether each copy was right and its loss: the best checkpoint (per copy) and the convergence
rule (:mod:`bench.run.convergence`) are computed from those.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import keras
import numpy as np

from bench.run.convergence import Check, last_fifth, last_fifth_p
from bench.run.protocol import Protocol, batches

#: Probabilities are clipped as Keras's cross-entropy clips them before the log.
EPSILON = 1e-7


@dataclass
class TrainResult:
    """What one copy reached, at its best checkpoint.

    Attributes:
        val_accuracy, val_loss: at the best checkpoint (NaN if it diverged before the first
            validation).
        best_step: the step of the best checkpoint.
        steps: the optimizer steps run.
        converged: False when its validation result still improved in the last fifth.
        gain_last_fifth: validation accuracy of the last fifth's best minus the best before.
        loss_drop_last_fifth: validation loss of the best before minus the last fifth's best.
        diverged: its training loss became NaN or infinite.
        wall_s: seconds of training of the program, shared equally by its copies.
        history: one dict per validation (step, loss, val_accuracy, val_loss).
        best_check: the best checkpoint's per-image validation results (None if diverged early).
        improving_p: the p-value of the gain the last fifth showed over the best before
            (:func:`bench.run.convergence.last_fifth_p`; 1 when it showed none).
    """

    val_accuracy: float
    val_loss: float
    best_step: int
    steps: int
    converged: bool
    gain_last_fifth: float
    loss_drop_last_fifth: float
    diverged: bool
    wall_s: float
    history: List[Dict[str, float]] = field(default_factory=list)
    best_check: Optional[Check] = None
    improving_p: float = 1.0

    def metrics(self) -> Dict[str, float]:
        """The numbers a trial reports to keras-tuner (floats)."""
        return {"val_accuracy": self.val_accuracy if math.isfinite(self.val_accuracy) else 0.0,
                "val_loss": self.val_loss, "best_step": float(self.best_step), "steps": float(self.steps),
                "converged": float(self.converged), "gain_last_fifth": self.gain_last_fifth,
                "loss_drop_last_fifth": self.loss_drop_last_fifth, "diverged": float(self.diverged),
                "wall_s": self.wall_s}


def per_image(probabilities: np.ndarray, labels: np.ndarray):
    """(right, loss) per image from predicted class probabilities."""
    right = np.argmax(probabilities, axis=-1) == labels
    picked = np.take_along_axis(probabilities, labels.astype(np.int64)[:, None], axis=-1)[:, 0]
    return right, -np.log(np.clip(picked, EPSILON, 1 - EPSILON))


def joined(models: Sequence[keras.Model]) -> keras.Model:
    """One model whose input and output i are those of ``models[i]``."""
    inputs = [keras.Input(tuple(m.input_shape[1:]), name=f"x{i}") for i, m in enumerate(models)]
    outputs = [keras.layers.Identity(name=f"copy{i}")(m(x)) for i, (m, x) in enumerate(zip(models, inputs))]
    return keras.Model(inputs, outputs, name="seeds")


def predict_all(program: keras.Model, copies: int, x, batch: int) -> List[np.ndarray]:
    """Class probabilities of every copy on ``x``."""
    out = program.predict([x] * copies, batch_size=batch, verbose=0)
    return list(out) if isinstance(out, (list, tuple)) else [out]


class _Validation(keras.callbacks.Callback):
    """Every ``eval_every`` steps: validates every copy, keeps its best weights; at the end
    puts each copy back at its best."""

    def __init__(self, models, x_val, y_val, protocol: Protocol):
        super().__init__()
        self.models, self.x_val, self.y_val, self.protocol = list(models), x_val, y_val, protocol
        self.checks = [[] for _ in self.models]
        self.history = [[] for _ in self.models]
        self.best = [None] * len(self.models)
        self.weights = [None] * len(self.models)
        self.diverged = [False] * len(self.models)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        step = (epoch + 1) * self.protocol.eval_every
        probabilities = predict_all(self.model, len(self.models), self.x_val, self.protocol.eval_batch)
        for i, (model, p) in enumerate(zip(self.models, probabilities)):
            train_loss = float(logs.get(f"copy{i}_loss", logs.get("loss", math.nan)) if len(self.models) > 1
                               else logs.get("loss", math.nan))
            right, loss = per_image(p, self.y_val)
            check = Check(step, right, loss)
            self.checks[i].append(check)
            self.history[i].append({"step": step, "loss": train_loss, "val_accuracy": check.accuracy,
                                    "val_loss": check.mean_loss})
            self.diverged[i] |= not math.isfinite(train_loss)
            if not self.diverged[i] and math.isfinite(check.mean_loss) and (
                    self.best[i] is None or check.rank() > self.best[i].rank()):
                self.best[i], self.weights[i] = check, [np.array(w) for w in model.get_weights()]
        if all(self.diverged):
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        for model, weights in zip(self.models, self.weights):
            if weights is not None:
                model.set_weights(weights)


def train_together(models: Sequence[keras.Model], seeds: Sequence[int], x, y, x_val, y_val, protocol: Protocol,
                   learning_rate: float, classes: int, callbacks=()) -> List[TrainResult]:
    """Trains ``models`` (one per seed, freshly built) as one program by ``protocol`` and
    leaves each at its best checkpoint.

    ``callbacks`` are further Keras callbacks that only observe (``wsbench speed --fits``
    times the epochs with one); they run after the protocol's own.
    """
    import tensorflow as tf

    program = protocol.compile(joined(models), learning_rate, outputs=len(models))
    program.optimizer.build(program.trainable_variables)  # slots exist before the step is traced
    streams = [batches(x, y, protocol.batch_size, seed) for seed in seeds]
    data = tf.data.Dataset.zip(tuple(streams)).map(lambda *pairs: (tuple(p[0] for p in pairs),
                                                                    tuple(p[1] for p in pairs)))
    validation = _Validation(models, x_val, y_val, protocol)
    start = time.perf_counter()
    program.fit(data, steps_per_epoch=protocol.eval_every, epochs=protocol.steps // protocol.eval_every,
                callbacks=[validation, *callbacks], shuffle=False, verbose=0)
    share = (time.perf_counter() - start) / len(models)
    results = []
    for i in range(len(models)):
        history, found = validation.history[i], validation.best[i]
        steps_run = history[-1]["step"] if history else 0
        diverged = validation.diverged[i]
        if found is None:
            results.append(TrainResult(math.nan, math.nan, 0, steps_run, False, 0.0, 0.0, True, share, history))
            continue
        converged, gain, drop = last_fifth(validation.checks[i], protocol.steps, classes)
        results.append(TrainResult(found.accuracy, found.mean_loss, found.step, steps_run, converged and not diverged,
                                   gain, drop, diverged, share, history, found,
                                   last_fifth_p(validation.checks[i], protocol.steps, classes)))
    return results


def test_results(models: Sequence[keras.Model], x_test, y_test, protocol: Protocol):
    """Per model: (which test images it got right, its mean test loss); one pass for all."""
    program = joined(models)
    out = []
    for p in predict_all(program, len(models), x_test, protocol.eval_batch):
        right, loss = per_image(p, y_test)
        out.append((right, float(np.mean(loss))))
    return out

