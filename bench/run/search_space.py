"""The search space: the hyperparameters every family shares, each family's own, and
drawing configurations from them.

The shared ones are the nuisance hyperparameters of the comparison: the learning rate,
regularisation (dropout) and the kernel size. Their defaults are the *plain recipe* every
family is trained with first (and by ``wsbench baseline``); their ranges are centred on it
in the space they are sampled in (log space for the learning rate), so the best trial is
rarely at an edge.

A family declares its hyperparameters in Python (``Family.hyperparameters(hp)``), and may
declare some only for certain values of others (SISWS's ``per_feature`` only for random or
trainable centroids). :func:`draw_values` therefore declares repeatedly, each time with the
values drawn so far, until no new name appears: every active hyperparameter gets a value,
conditional ones included, and none that its parents switched off.
"""

from __future__ import annotations

import json
import zlib
from typing import Any, Callable, Dict, Iterator, List, Optional

import keras_tuner as kt
import numpy as np

from layers import get_family

KERNEL_SIZES = (3, 5)
#: Random family configurations (besides the defaults) tried before a configuration is
#: declared impossible (a whole cell, or one kernel size for a cell).
FEASIBILITY_SAMPLES = 64
#: A best value in the outer share of its range (in sampling space) is flagged as at its edge.
EDGE = 0.1


def shared_hyperparameters(hp: kt.HyperParameters) -> Dict[str, Any]:
    """Declares the hyperparameters every family shares and returns their values; the
    defaults are the plain recipe."""
    return {
        "learning_rate": hp.Float("learning_rate", 1e-3, 1e-1, sampling="log", default=1e-2),
        "kernel_size": hp.Choice("kernel_size", list(KERNEL_SIZES), default=3),
        "dropout": hp.Float("dropout", 0.0, 0.4, default=0.1),
    }


Declare = Callable[[kt.HyperParameters], Any]


def declared(declare: Declare, values: Dict[str, Any]) -> kt.HyperParameters:
    """A HyperParameters holding ``values`` on which ``declare`` has declared its space."""
    hp = kt.HyperParameters()
    hp.values.update(values)
    declare(hp)
    return hp


def defaults(declare: Declare) -> Dict[str, Any]:
    """The default value of every hyperparameter ``declare`` declares (active ones only)."""
    return {name: value for name, value in declared(declare, {}).values.items()}


def active_values(declare: Declare, values: Dict[str, Any]) -> Dict[str, Any]:
    """``values`` without the hyperparameters that do not apply to them.

    keras-tuner sees a family's conditional hyperparameter (declared in a Python ``if``) as
    always active once any trial declared it, and fills it into every later trial's values
    with a random sample (``HyperParameters.ensure_active_values``): e.g. ``per_feature`` for
    a SISWS trial with fixed grid centroids, which the layer ignores. What is recorded keeps
    only the names ``declare`` declares under these values.
    """
    active = {h.name for h in declared(declare, dict(values)).space}
    return {name: value for name, value in values.items() if name in active}


def hp_json(declare: Declare, values: Dict[str, Any]) -> str:
    """The values that apply (:func:`active_values`) as the tables store them: sorted JSON."""
    return json.dumps(active_values(declare, values), sort_keys=True)


def draw_values(declare: Declare, uniform: Callable[[str], float],
                choices: Optional[Dict[str, List[Any]]] = None) -> Dict[str, Any]:
    """Values for every hyperparameter ``declare`` declares, conditional ones included.

    Args:
        declare: declares hyperparameters on a ``kt.HyperParameters`` (e.g. a family's
            ``hyperparameters``).
        uniform: a number in [0, 1) for a hyperparameter's name; it is mapped to a value
            with keras-tuner's ``prob_to_value`` (log scale for log-sampled floats).
        choices: for a Choice hyperparameter, the values it may take here (a subset of its
            own, in its order); the uniform number is mapped onto those.

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
            allowed = (choices or {}).get(h.name)
            if allowed is not None:
                values[h.name] = allowed[min(int(uniform(h.name) * len(allowed)), len(allowed) - 1)]
            else:
                values[h.name] = h.prob_to_value(uniform(h.name))


def stream_uniform(*key) -> Callable[[str], float]:
    """A uniform number per hyperparameter name, fixed by ``key`` (e.g. run seed, family,
    trial, redraw) and the name alone: drawing one name never shifts another's value."""
    def uniform(name: str) -> float:
        words = [zlib.crc32(str(part).encode()) for part in (*key, name)]
        return float(np.random.default_rng(words).random())
    return uniform


def position_in_range(hp_object, value) -> Optional[float]:
    """Where ``value`` sits in the hyperparameter's range, in [0, 1] of its sampling space
    (log for log-sampled floats); None for an unordered choice."""
    if isinstance(hp_object, (kt.engine.hyperparameters.Float, kt.engine.hyperparameters.Int)):
        return float(hp_object.value_to_prob(value))
    return None


def family_configurations(family: str, seed: int = 0, samples: int = FEASIBILITY_SAMPLES) -> Iterator[Dict[str, Any]]:
    """The family's default configuration, then ``samples`` random ones."""
    declare = get_family(family).hyperparameters
    yield defaults(declare)
    for i in range(samples):
        yield draw_values(declare, stream_uniform("feasibility", seed, family, i))


def family_keywords(family: str, values: Dict[str, Any]) -> Dict[str, Any]:
    """The layer keyword arguments of ``family`` for its hyperparameter ``values`` (what
    ``Family.hyperparameters`` returns on a HyperParameters holding them; names may differ:
    SISWS's ``centroids='grid2x2'`` is ``n_centroids=(2, 2)``)."""
    declare = get_family(family).hyperparameters
    return declare(declared(declare, values))


def feasible_kernel_sizes(solve: Callable[[int, Dict[str, Any]], Any], family: str) -> Dict[int, str]:
    """kernel size → '' when some configuration of ``family`` meets the budget with it, else
    why none does (the default configuration's reason). ``solve(kernel_size, family_hp)``
    is the cell's budget solver; ``family_hp`` are layer keyword arguments."""
    out = {}
    for kernel_size in KERNEL_SIZES:
        reason = None
        for values in family_configurations(family):
            solution = solve(kernel_size, family_keywords(family, values))
            if solution.feasible:
                reason = ""
                break
            reason = reason or solution.reason
        out[kernel_size] = reason
    return out
