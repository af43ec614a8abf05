"""The family registry: built-in layer families and third-party plugins.

A *family* (:class:`layers.family.Family`) bundles a Keras 3 layer factory, the keras-tuner
hyperparameters the family declares, exact analytic formulas for its parameter count and
multiply-accumulates, and the hooks the harness asks (pictures, train flags, speed rows).
Built-in families register themselves with ``@register_family``; third-party packages
expose a module (or a ``Family`` subclass) under the entry-point group
``wsbench.families`` and are loaded once, lazily, the first time the registry is read.
"""

from __future__ import annotations

import importlib
from typing import Dict, List, Optional

from layers.family import Family, SpeedSpec, SpeedTarget, TrainFlag  # noqa: F401  (re-exported)
from layers.plugins import PluginError, Registry, instances_of

ENTRY_POINT_GROUP = "wsbench.families"


class FamilyError(PluginError):
    """A family name that is unknown, registered twice, or a plugin that failed to load."""


# The built-ins need no loading here: ``layers/__init__.py``, which Python runs before any
# module of the package, imports layers.families, which registers them (from hard sharing to none).
# Registering imports no Keras: a built-in names its layer class (Family.layer_path).
FAMILIES = Registry("family", ENTRY_POINT_GROUP, lambda: None, plural="families", plugin_type=Family,
                    make=instances_of(Family, FamilyError, "register_family"), error=FamilyError)


def register_family(name: str):
    """Class decorator that registers a :class:`Family` subclass under ``name``.

    Raises:
        FamilyError: if ``name`` is not a plain name or is already registered.
    """
    return FAMILIES.register(name)


def get_family(name: str) -> Family:
    """Returns the registered family called ``name``.

    Raises:
        FamilyError: naming the unknown value and the known families, or the plugin
            entry point that failed to provide it.
    """
    family = FAMILIES.get(name)
    family.source = FAMILIES.source(name)
    return family


def list_families() -> List[str]:
    """Names of all registered families (built-in first, in registration order)."""
    return FAMILIES.names()


#: Layers a saved model of the harness may hold besides the families' own.
OTHER_LAYER_MODULES = ("layers.circular",)


def load_layer_classes() -> None:
    """Imports the layer class of every registered family (and the circular padding of the
    backbone), so ``keras.saving.load_model`` can rebuild any saved model of a run (a class
    registers itself with Keras when its module is imported)."""
    for module in OTHER_LAYER_MODULES:
        importlib.import_module(module)
    for name in list_families():
        get_family(name).layer_type  # noqa: B018 - resolving it imports the class's module


def plugin_errors() -> Dict[str, str]:
    """Entry-point name → error message for every family plugin that failed to load."""
    return FAMILIES.errors()


def family_of(layer) -> Optional[Family]:
    """The first registered family that owns ``layer`` (see :meth:`Family.owns`), or None.

    sisws and sisws_trainable share SISWS2D; a SISWS2D layer is attributed to sisws, which
    has the same pictures and formulas. Where the family is known (the name a model gave
    its layers, the family a command was run with), pass that instead.
    """
    for name in list_families():
        family = get_family(name)
        if family.owns(layer):
            return family
    return None
