"""The one configuration of a run, its validation, and the named profiles.

:class:`BenchConfig` holds every setting of a run; its defaults *are* the ``default``
profile, and every other profile is an instance of it. The command line starts from a
profile and replaces what its flags give; :meth:`BenchConfig.validated` then checks every
setting once and resolves it (family names, integer budgets, the run name), and only that
validated config flows downstream. run.json stores it; a resume must match it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple, Union


#: How every block pads: 'same' (zeros) or 'circular' (see :mod:`layers.circular`).
PADDINGS = ("same", "circular")


@dataclass(frozen=True)
class BenchConfig:
    """Everything that defines a run; stored in run.json and compared on resume.

    The defaults are the ``default`` profile: every family on digits at two budgets (3k and
    10k: with seeds added up to 10 where verdicts are open, a third budget of 30k would take
    ``make bench`` past 10 minutes on 2 cores; ``wsbench study real`` runs digits at 30k too); 2
    trials each (the plain recipe, then a quasi-random draw with the same shared values for
    every family: on digits the validation split cannot rank configurations anyway); every model trained for the steps the data needs (``steps='auto'``: from
    400, doubled while any family's plain recipe still gains from doubling, up to
    ``max_steps``); 3 final seeds, more where a verdict against conv is still open
    (``seeds='auto'``, up to ``max_seeds``), and 2 seeds of the untuned recipe; two cells at a
    time, one thread each.
    """

    profile: str = "default"
    dataset: str = "digits"
    families: Tuple[str, ...] = ()  # () or ('all',): every registered family
    budgets: Tuple[Any, ...] = (3000, 10000)
    tuner: str = "quasirandom"
    max_trials: int = 2
    steps: Union[int, str] = "auto"  # or a fixed count (see bench.run.steps)
    max_steps: int = 3200
    batch_size: int = 128
    warmup: float = 0.1
    eval_every: Optional[int] = None  # None: about 8 validations per training (bench.run.protocol)
    seeds: Union[int, str] = "auto"  # or a fixed count (see bench.stats.sequential)
    max_seeds: int = 10
    baseline_seeds: int = 2
    tolerance: float = 0.05
    margin: float = 1.0  # percentage points: a difference within ±margin of conv is "equivalent"
    seed: int = 0
    val_fraction: float = 0.15
    depth: int = 2
    head: str = "gap"
    padding: str = "same"  # one of PADDINGS
    run_name: str = ""
    results_dir: str = "results"
    throughput: bool = True
    throughput_batch: int = 128
    throughput_repeats: int = 3
    backend: str = ""  # '' : Keras's own setting (KERAS_BACKEND, else TensorFlow); resolved on validation
    threads: int = 1
    jobs: int = 2

    #: Settings that may differ between a run and its resumption (they change no number).
    RESUMABLE_DIFFERENCES = ("results_dir", "jobs")

    def comparable(self) -> Dict[str, Any]:
        """The settings a resume must match, as stored in run.json."""
        data = dataclasses.asdict(self)
        for key in self.RESUMABLE_DIFFERENCES:
            data.pop(key)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    def validated(self) -> "BenchConfig":
        """This config checked and resolved: family names (all of them for 'all'), budgets as
        ints, the run name (default ``<profile>-<dataset>``).

        Raises:
            ValueError: naming the bad value and what is accepted.
        """
        from bench import backend
        from bench.data import dataset_key
        from bench.run.tuners import get_tuner
        from bench.store import check_run_name
        from layers import get_family, list_families

        families = list_families() if self.families in ((), ("all",)) else list(self.families)
        if not families:
            raise ValueError("no family given: name at least one of " + ", ".join(list_families()) + " (or 'all').")
        for name in families:
            get_family(name)
        if len(set(families)) != len(families):
            raise ValueError(f"families {families} name a family twice: give each once.")
        if not self.budgets:
            raise ValueError("no budget given: give at least one positive parameter count.")
        budgets = tuple(check_budget(b) for b in self.budgets)
        get_tuner(self.tuner)
        for name in ("max_trials", "max_steps", "batch_size", "depth", "throughput_batch", "throughput_repeats",
                     "jobs"):
            positive_int(getattr(self, name), name)
        for name in ("steps", "seeds"):
            if getattr(self, name) != "auto":
                positive_int(getattr(self, name), name, also="or 'auto'")
        if self.eval_every is not None:
            positive_int(self.eval_every, "eval_every")
        check_max_seeds(self.max_seeds)
        check_steps(self.steps, self.max_steps, self.eval_every)
        for name in ("baseline_seeds", "threads"):
            if isinstance(getattr(self, name), bool) or not isinstance(getattr(self, name), int) \
                    or getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)!r} is not accepted: give an integer >= 0.")
        if not 0 <= self.warmup < 1:
            raise ValueError(f"warmup={self.warmup!r} is not accepted: give the warm-up as a fraction in [0, 1).")
        check_tolerance(self.tolerance)
        check_margin(self.margin)
        if self.padding not in PADDINGS:
            raise ValueError(f"padding={self.padding!r} is not accepted: use one of {list(PADDINGS)}.")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction={self.val_fraction!r} is not accepted: give a fraction in (0, 1).")
        run_name = check_run_name(self.run_name or f"{self.profile}-{dataset_key(self.dataset)}")
        return dataclasses.replace(self, families=tuple(families), budgets=budgets, run_name=run_name,
                                   backend=backend.choose(self.backend or None))


PROFILES: Dict[str, BenchConfig] = {
    # The main job: < 10 min on 2 cores, where two cells at a time use both cores.
    "default": BenchConfig(),
    # A smoke run of the whole pipeline in well under 2 minutes (its models are not trained to convergence).
    "quick": BenchConfig(profile="quick", budgets=(3000,), max_trials=2, steps=20, eval_every=10, seeds=2,
                         baseline_seeds=1, throughput_batch=32, throughput_repeats=2, jobs=1),
    # The controlled pair of `wsbench study` (one run per shapes dataset): two budgets, the recipe
    # and one quasi-random draw, seeds added where a verdict is open (a verdict against conv over
    # 10 comparisons needs 9 seeds at least), 1,500 steps (at 1,000,
    # sisws, sisws_trainable and lrlc at 30k were still gaining 1.5-2.5 standard errors in the
    # last fifth). Circular padding, so that conv + global average pooling is exactly blind to
    # where things are (with zero padding it reads position off the image border:
    # layers.circular). No untuned baseline (trial 0 is the recipe) and no throughput.
    "study": BenchConfig(profile="study", budgets=(10000, 30000), max_trials=2, steps=1500, eval_every=100,
                         baseline_seeds=0, throughput=False, padding="circular"),
}


def profile(name: str) -> BenchConfig:
    """The profile called ``name``; raises ValueError naming the accepted ones."""
    if name not in PROFILES:
        raise ValueError(f"profile {name!r} is not accepted: use one of {sorted(PROFILES)}.")
    return PROFILES[name]


def positive_int(value, name: str, also: str = "") -> int:
    """Returns ``value`` if it is a positive int, else raises ValueError naming it (and
    ``also``, another accepted value)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}={value!r} is not accepted: give a positive integer{' ' + also if also else ''}.")
    return value


def check_max_seeds(max_seeds) -> int:
    """The seed cap of ``seeds='auto'``: an int at least the seeds every cell starts with."""
    from bench.stats.sequential import START

    if isinstance(max_seeds, bool) or not isinstance(max_seeds, int) or max_seeds < START:
        raise ValueError(f"max_seeds={max_seeds!r} is not accepted: give an integer >= {START}, the seeds every "
                         f"cell starts with (--seeds auto adds seeds up to it).")
    return max_seeds


def check_steps(steps, max_steps: int, eval_every: Optional[int]) -> None:
    """Refuses steps that cannot be validated every ``eval_every`` steps, or a cap below the
    first step count ``steps='auto'`` tries."""
    from bench.run.protocol import START_STEPS

    if steps == "auto" and max_steps < START_STEPS:
        raise ValueError(f"max_steps={max_steps!r} is not accepted with steps='auto': give at least {START_STEPS}, "
                         f"the first step count it tries.")
    first = START_STEPS if steps == "auto" else steps
    if eval_every is not None and first % eval_every:
        raise ValueError(f"steps={first} is not a multiple of eval_every={eval_every}: the model is validated every "
                         f"eval_every steps, so give steps that are a multiple of it.")


def check_budget(budget) -> int:
    """A budget (a number or its text) as a positive int, or ValueError naming it."""
    try:
        value = float(budget)
    except (TypeError, ValueError):
        raise ValueError(f"budget {budget!r} is not a number: give positive integers (trainable-parameter "
                         f"counts), e.g. 5000,20000.") from None
    if not (0 < value < math.inf) or value != int(value):
        raise ValueError(f"budget {budget!r} is not accepted: give positive integers (trainable-parameter counts), "
                         f"e.g. 5000,20000.")
    return int(value)


#: The largest equivalence margin accepted, in percentage points: a margin is a difference too
#: small to matter; one of 20 points would call almost anything equivalent.
MAX_MARGIN = 20.0


def check_margin(margin) -> float:
    """The equivalence margin (percentage points) if it is in (0, MAX_MARGIN], else ValueError naming it."""
    try:
        value = float(margin)
    except (TypeError, ValueError):
        raise ValueError(f"margin {margin!r} is not a number: give percentage points in (0, {MAX_MARGIN:g}], "
                         f"e.g. 1.") from None
    if not 0 < value <= MAX_MARGIN:
        raise ValueError(f"margin {margin!r} is not accepted: give the equivalence margin in percentage points, "
                         f"a number in (0, {MAX_MARGIN:g}], e.g. 1.")
    return value


def check_tolerance(tolerance) -> float:
    """The tolerance if it is a fraction in (0, 1), else ValueError naming it."""
    try:
        value = float(tolerance)
    except (TypeError, ValueError):
        raise ValueError(f"tolerance {tolerance!r} is not a number: give a fraction in (0, 1), e.g. 0.05.") from None
    if not 0 < value < 1:
        raise ValueError(f"tolerance {tolerance!r} is not accepted: give a fraction in (0, 1), e.g. 0.05.")
    return value
