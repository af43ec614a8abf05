"""The training protocol: how every model of a run is trained, counted in optimizer steps.

Every trial, final seed and baseline model of every family is trained the same way, and
:class:`Protocol` holds all of it:

- ``steps`` optimizer steps of Adam on sparse categorical cross-entropy at ``batch_size``, fed
  from a repeated, reshuffled ``tf.data`` stream seeded by the training seed alone (seed i
  feeds the same batches to every family: paired comparisons rest on that);
- the learning rate rises linearly from 0 over the first ``warmup`` fraction of the steps,
  then follows a cosine decay to 0 at the last step;
- the validation split is evaluated every ``eval_every`` steps and the best checkpoint
  (highest validation accuracy, ties to the lower loss) is restored at the end: retrospective
  checkpoint selection, never early stopping; whether a model has converged is
  :mod:`bench.run.convergence`'s rule;
- several seeds of one configuration train as one program (:mod:`bench.run.training`): up to
  ``together`` copies side by side, each with its own initialisation, data order, dropout and
  best checkpoint, bit for bit what it would be alone (a test checks this);
  ``steps_per_execution`` steps run per call into the compiled step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Dict, Optional

import keras

from bench.run.convergence import LAST_FRACTION, LOSS_SE

#: The first step count ``--steps auto`` tries (bench.run.steps; the default profile's fixed count
#: before the steps were chosen from the data).
START_STEPS = 400
#: Validations per training when the run does not set ``eval_every``.
VALIDATIONS = 8
#: The most steps run per call into the compiled training step.
MAX_STEPS_PER_EXECUTION = 25
#: The most seeds of one configuration trained as one program.
TOGETHER = 10


def largest_divisor(n: int, at_most: float) -> int:
    """The largest divisor of ``n`` that is at most ``at_most`` (at least 1)."""
    return max(d for d in range(1, max(1, int(at_most)) + 1) if n % d == 0)


@dataclass(frozen=True)
class Protocol:
    """How every model of a run is trained (see the module docstring); run.json records it."""

    steps: int
    batch_size: int
    warmup: float
    eval_every: int
    optimizer: str = "adam"
    loss: str = "sparse_categorical_crossentropy"
    eval_batch: int = 512  # evaluation cost only: no number depends on it
    steps_per_execution: int = 1
    together: int = TOGETHER

    @classmethod
    def of(cls, config, steps: Optional[int] = None) -> "Protocol":
        """The protocol of a run's configuration; ``steps`` when the run chose them itself
        (``--steps auto``), and ``eval_every`` of the steps when the run does not set it."""
        steps = int(config.steps if steps is None else steps)
        every = int(config.eval_every) if config.eval_every else largest_divisor(steps, steps / VALIDATIONS)
        return cls(steps, config.batch_size, config.warmup, every,
                   steps_per_execution=largest_divisor(every, MAX_STEPS_PER_EXECUTION))

    def schedule(self, learning_rate: float) -> keras.optimizers.schedules.LearningRateSchedule:
        """Linear warm-up from 0 to ``learning_rate``, then cosine decay to 0 at the last step."""
        warm = int(round(self.warmup * self.steps))
        return keras.optimizers.schedules.CosineDecay(0.0, max(self.steps - warm, 1), alpha=0.0,
                                                      warmup_target=float(learning_rate), warmup_steps=warm)

    def compile(self, model: keras.Model, learning_rate: float, outputs: int = 1) -> keras.Model:
        """Compiles ``model`` (with ``outputs`` outputs, one loss each, summed) by the protocol."""
        optimizer = keras.optimizers.get({"class_name": self.optimizer,
                                          "config": {"learning_rate": self.schedule(learning_rate)}})
        model.compile(optimizer=optimizer, loss=[self.loss] * outputs if outputs > 1 else self.loss,
                      steps_per_execution=self.steps_per_execution)
        return model

    def describe(self) -> Dict[str, Any]:
        """The protocol as run.json records it: its fields, and what they mean in words."""
        return {**dataclasses.asdict(self),
                "schedule": f"linear warm-up over {self.warmup:.0%} of the steps, then cosine decay to 0",
                "checkpoint": "best validation accuracy (ties: lower loss), restored at the end",
                "not_converged_when": f"the best validation of the last {LAST_FRACTION:.0%} of the steps beats the "
                                      f"best before it beyond what the split resolves: accuracy by more than one "
                                      f"standard error (at least one image), or, where accuracy is saturated, loss by "
                                      f"more than {LOSS_SE:g} standard errors of the paired per-image losses (at least "
                                      f"ln(classes) / images)",
                "seeds_together": f"up to {self.together} seeds of one configuration trained as one program, each "
                                  f"as it would be alone"}


def batches(x, y, batch_size: int, seed: int):
    """The training stream: shuffled with ``seed`` alone, reshuffled every pass, repeated forever.

    TensorFlow derives a shuffle's randomness from the global seed and the op's own, so the
    global seed is set to ``seed`` first: the order then depends on ``seed`` and nothing else
    (not on which model was built last, nor on the other seeds of a program).
    """
    import tensorflow as tf

    tf.random.set_seed(int(seed))
    data = tf.data.Dataset.from_tensor_slices((x, y))
    data = data.shuffle(len(y), seed=int(seed), reshuffle_each_iteration=True).repeat()
    return data.batch(batch_size, drop_remainder=len(y) >= batch_size).prefetch(2)
