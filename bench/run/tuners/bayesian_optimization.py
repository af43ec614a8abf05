"""``bayesian``: keras-tuner's Gaussian-process Bayesian optimisation."""

from bench.run.tuners import TunerKind, register_tuner


@register_tuner("bayesian")
class Bayesian(TunerKind):
    description = ("keras-tuner's BayesianOptimization: a Gaussian process proposes each next trial; adaptive, so "
                   "families do not see the same learning rates")
    keras_tuner_path = "keras_tuner:BayesianOptimization"
