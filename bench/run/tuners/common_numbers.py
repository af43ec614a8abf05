"""``quasirandom`` (the default) and ``random``: common random numbers across families.

Trial 0 is the plain recipe; the shared hyperparameters of trial i are the same for every
family; infeasible draws are redrawn, never counted (see :mod:`bench.run.oracle`).
"""

from bench.run.tuners import Search, TunerKind, register_tuner


class CommonNumbers(TunerKind):
    keras_tuner_path = "keras_tuner:Tuner"
    common_numbers = True
    sequence = "halton"

    def arguments(self, search: Search):
        from bench.run.oracle import CommonNumbersOracle  # keras-tuner: only when a search is made

        model = search.hypermodel
        return {"oracle": CommonNumbersOracle(
            shared=model.shared_space, family=model.family_space, family_name=model.family, feasible=model.feasible,
            choices=model.shared_choices(), seed=search.seed, max_trials=search.max_trials, sequence=self.sequence,
            objective=search.objective, max_consecutive_failed_trials=10**6)}


@register_tuner("quasirandom")
class QuasiRandom(CommonNumbers):
    description = ("trial 0 the plain recipe, then a scrambled Halton sequence of the shared hyperparameters, the "
                   "same at trial i for every family; infeasible draws redrawn")


@register_tuner("random")
class PseudoRandom(CommonNumbers):
    description = ("as quasirandom, with independent uniform draws instead of a low-discrepancy sequence (still the "
                   "same shared values at trial i for every family)")
    sequence = "pseudo"
