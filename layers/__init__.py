"""wsbench layer families: Keras 3 layers from hard sharing (Conv2D) to none (LocallyConnected2D).

Use :func:`get_family` / :func:`list_families` to reach them, or register your own with
``@register_family``. A family (:class:`Family`, in :mod:`layers.family`) also declares what
the harness asks about it: pictures, `wsbench train` flags, `wsbench speed` rows. Custom
layers build on :class:`SpatialLayer` (the Conv2D arguments) and :class:`RoutedLayer`
(the conv / mix routes).

Importing this package (and reading the registry) imports no Keras: the built-in families
(:mod:`layers.families`) name their layer classes, which are imported the first time they
are used (``layers.SISWS2D``, :attr:`Family.layer_type`, building a layer). Before loading a
saved model with ``keras.saving.load_model``, call :func:`load_layer_classes` so Keras knows
every family's layer class.
"""

import importlib

from layers.registry import (Family, FamilyError, SpeedSpec, SpeedTarget, TrainFlag, family_of, get_family,
                             list_families, load_layer_classes, plugin_errors, register_family)
from layers import families as _families  # noqa: F401  (registers the built-ins)

#: The layer classes, imported on first access (they import Keras).
_LAYER_CLASSES = {"CoordConv2D": "layers.coordconv", "LocallyConnected2D": "layers.locally_connected",
                  "LowRankLocallyConnected2D": "layers.lrlc", "SISWS2D": "layers.sisws",
                  "RoutedLayer": "layers.routes", "SpatialLayer": "layers.spatial_layer",
                  "CircularPad2D": "layers.circular"}


def __getattr__(name):
    if name in _LAYER_CLASSES:
        return getattr(importlib.import_module(_LAYER_CLASSES[name]), name)
    raise AttributeError(f"module 'layers' has no attribute {name!r}")


__all__ = [
    "Family", "FamilyError", "get_family", "list_families", "load_layer_classes", "plugin_errors",
    "register_family", "family_of", "TrainFlag", "SpeedSpec", "SpeedTarget",
    "CoordConv2D", "LocallyConnected2D", "LowRankLocallyConnected2D", "SISWS2D",
    "SpatialLayer", "RoutedLayer", "CircularPad2D",
]
