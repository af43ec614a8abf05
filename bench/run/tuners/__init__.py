"""The tuner registry: how a family × budget search picks its trials.

A tuner is a :class:`TunerKind`: a keras-tuner class and the arguments it is made with.
Built-ins are the other modules of this package (a new tuner is a new file here); a
third-party package registers one under the ``wsbench.tuners`` entry-point group::

    import keras_tuner as kt
    from bench.run.tuners import TunerKind, register_tuner

    @register_tuner("grid")
    class Grid(TunerKind):
        description = "keras-tuner's GridSearch over every choice"
        keras_tuner_class = kt.GridSearch
"""

from __future__ import annotations

from typing import Any, Dict

from layers.plugins import PluginError, Registry, import_package_modules, instances_of

ENTRY_POINT_GROUP = "wsbench.tuners"


class TunerError(PluginError):
    """An unknown tuner name, or a tuner plugin that failed to load."""


class TunerKind:
    """One way of searching.

    Attributes:
        name: registry name (set on registration).
        description: one line for ``wsbench tuners`` and ``--help``.
        keras_tuner_class: the keras-tuner ``Tuner`` subclass to run.
        counts_trials: whether ``max_trials`` bounds the search (progress then shows a total).
    """

    name: str = ""
    description: str = ""
    keras_tuner_class: type = None
    counts_trials: bool = True

    def arguments(self, *, max_trials: int, epochs: int) -> Dict[str, Any]:
        """The keyword arguments, besides the ones every tuner gets, that bound the search."""
        return {"max_trials": max_trials}


TUNERS = Registry("tuner", ENTRY_POINT_GROUP, lambda: import_package_modules(__name__), plugin_type=TunerKind,
                  make=instances_of(TunerKind, TunerError, "register_tuner"), error=TunerError)


def register_tuner(name: str):
    """Decorator registering a :class:`TunerKind` under ``name``."""
    return TUNERS.register(name)


def get_tuner(name: str) -> TunerKind:
    """The tuner called ``name``; raises TunerError naming the accepted ones."""
    return TUNERS.get(name)
