"""The search space: the hyperparameters every family shares, each family's own, and
drawing configurations from them.

A family declares its hyperparameters in Python (``Family.hyperparameters(hp)``), and may
declare some only for certain values of others (SISWS's ``per_feature`` only for random or
trainable centroids). :func:`draw_values` therefore declares repeatedly, each time with the
values drawn so far, until no new name appears: every active hyperparameter gets a value,
conditional ones included, and none that its parents switched off.
"""

from __future__ import annotations

import zlib
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

import keras_tuner as kt
import numpy as np

from layers import get_family

KERNEL_SIZES = (3, 5)
#: Random family configurations (besides the defaults) tried before a family × budget cell
#: is declared infeasible as a whole.
FEASIBILITY_SAMPLES = 64


def shared_hyperparameters(hp: kt.HyperParameters) -> Dict[str, Any]:
    """Declares the hyperparameters every family shares and returns their values."""
    return {
        "learning_rate": hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3),
        "kernel_size": hp.Choice("kernel_size", list(KERNEL_SIZES), default=3),
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.2),
    }


Declare = Callable[[kt.HyperParameters], Any]


def declared(declare: Declare, values: Dict[str, Any]) -> kt.HyperParameters:
    """A HyperParameters holding ``values`` on which ``declare`` has declared its space."""
    hp = kt.HyperParameters()
    hp.values.update(values)
    declare(hp)
    return hp


def draw_values(declare: Declare, uniform: Callable[[str], float]) -> Dict[str, Any]:
    """Values for every hyperparameter ``declare`` declares, conditional ones included.

    Args:
        declare: declares hyperparameters on a ``kt.HyperParameters`` (e.g. a family's
            ``hyperparameters``).
        uniform: a number in [0, 1) for a hyperparameter's name; it is mapped to a value
            with keras-tuner's ``prob_to_value`` (log scale for log-sampled floats).

    Returns:
        name → value for exactly the hyperparameters that are active under those values.
    """
    values: Dict[str, Any] = {}
    while True:
        hp = declared(declare, values)
        new = [h for h in hp.space if h.name not in values]
        if not new:
            active = {h.name for h in hp.space}
            return {name: value for name, value in values.items() if name in active}
        for h in new:
            values[h.name] = h.prob_to_value(uniform(h.name))


def stream_uniform(*key) -> Callable[[str], float]:
    """A uniform number per hyperparameter name, fixed by ``key`` (e.g. run seed, family,
    trial, redraw) and the name alone: drawing one name never shifts another's value."""
    def uniform(name: str) -> float:
        words = [zlib.crc32(str(part).encode()) for part in (*key, name)]
        return float(np.random.default_rng(words).random())
    return uniform


def family_configurations(family: str, seed: int = 0, samples: int = FEASIBILITY_SAMPLES) -> Iterator[Dict[str, Any]]:
    """The family's default configuration, then ``samples`` random ones."""
    declare = get_family(family).hyperparameters
    yield get_family(family).hyperparameters(kt.HyperParameters())
    for i in range(samples):
        yield draw_values(declare, stream_uniform("feasibility", seed, family, i))


def cell_infeasibility(family: str, input_shape, num_classes: int, budget: int, *, tolerance: float, depth: int,
                       head: str) -> Optional[str]:
    """Why no configuration of ``family`` can meet ``budget``, or None if one can.

    Tries every shared kernel size with the family's default configuration and
    :data:`FEASIBILITY_SAMPLES` random ones; the reason given is the default configuration's
    at the smallest kernel size.
    """
    from bench.run.budget import solve_width

    reasons: Dict[Tuple[int, int], str] = {}
    for index, family_hp in enumerate(family_configurations(family)):
        for kernel_size in KERNEL_SIZES:
            solution = solve_width(family, input_shape, num_classes, budget, tolerance=tolerance, depth=depth,
                                   kernel_size=kernel_size, head=head, family_hp=family_hp)
            if solution.feasible:
                return None
            reasons[(index, kernel_size)] = solution.reason
    return reasons[(0, min(KERNEL_SIZES))]
