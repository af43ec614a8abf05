"""The tuner registry: how a family × budget search picks its trials.

A tuner is a :class:`TunerKind`: a keras-tuner class and the arguments it is made with for
one search. Built-ins are the other modules of this package (a new tuner is a new file
here); a third-party package registers one under the ``wsbench.tuners`` entry-point group::

    import keras_tuner as kt
    from bench.run.tuners import TunerKind, register_tuner

    @register_tuner("grid")
    class Grid(TunerKind):
        description = "keras-tuner's GridSearch over every choice"
        keras_tuner_class = kt.GridSearch
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Dict

from layers.plugins import PluginError, Registry, import_package_modules, instances_of

ENTRY_POINT_GROUP = "wsbench.tuners"


class TunerError(PluginError):
    """An unknown tuner name, or a tuner plugin that failed to load."""


@dataclass(frozen=True)
class Search:
    """What one family × budget search is, for a tuner to be made for it.

    Attributes:
        hypermodel: the cell's :class:`bench.run.hypermodel.BudgetedHyperModel`.
        max_trials: trials the search runs.
        seed: the run seed.
        objective: the keras-tuner objective (validation accuracy).
    """

    hypermodel: Any
    max_trials: int
    seed: int
    objective: Any


class TunerKind:
    """One way of searching.

    Attributes:
        name: registry name (set on registration).
        description: one line for ``wsbench tuners`` and ``--help``.
        keras_tuner_class: the keras-tuner ``Tuner`` class to run. A tuner may instead name
            it by ``keras_tuner_path`` (``'module:Class'``), imported when the class is first
            asked for: the built-ins do, so listing the tuners imports no keras-tuner (and so
            no TensorFlow).
        common_numbers: whether trial i has the same shared hyperparameter values for every
            family (the report says so, or warns that the tuner adapts per family).
    """

    name: str = ""
    description: str = ""
    keras_tuner_path: str = ""
    common_numbers: bool = False

    @property
    def keras_tuner_class(self) -> type:
        """The keras-tuner class (from ``keras_tuner_path``, imported on first use), or None."""
        if not self.keras_tuner_path:
            return None
        module, _, name = self.keras_tuner_path.partition(":")
        return getattr(importlib.import_module(module), name)

    def arguments(self, search: Search) -> Dict[str, Any]:
        """The keyword arguments of ``keras_tuner_class`` for ``search`` (besides the
        hypermodel, directory and project, which every tuner gets)."""
        return {"objective": search.objective, "max_trials": search.max_trials,
                # keras-tuner takes seed 0 as 'random'.
                "seed": search.seed + 1, "max_consecutive_failed_trials": 10**6}


TUNERS = Registry("tuner", ENTRY_POINT_GROUP, lambda: import_package_modules(__name__), plugin_type=TunerKind,
                  make=instances_of(TunerKind, TunerError, "register_tuner"), error=TunerError)


def register_tuner(name: str):
    """Decorator registering a :class:`TunerKind` under ``name``."""
    return TUNERS.register(name)


def get_tuner(name: str) -> TunerKind:
    """The tuner called ``name``; raises TunerError naming the accepted ones."""
    return TUNERS.get(name)
