"""``hyperband``: keras-tuner's Hyperband (successive halving over epochs)."""

import keras_tuner as kt

from bench.run.tuners import TunerKind, register_tuner


@register_tuner("hyperband")
class Hyperband(TunerKind):
    description = "keras-tuner's Hyperband: many short trials, the best trained longer (no fixed trial count)"
    keras_tuner_class = kt.Hyperband
    counts_trials = False

    def arguments(self, *, max_trials: int, epochs: int):
        return {"max_epochs": epochs, "factor": 3, "hyperband_iterations": 1}
