"""``random``: keras-tuner's random search."""

import keras_tuner as kt

from bench.run.tuners import TunerKind, register_tuner


@register_tuner("random")
class Random(TunerKind):
    description = "keras-tuner's RandomSearch: max_trials independent draws"
    keras_tuner_class = kt.RandomSearch
