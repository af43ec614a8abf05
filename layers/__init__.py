"""wsbench layer families: Keras 3 layers from hard sharing (Conv2D) to none (LocallyConnected2D).

Use :func:`get_family` / :func:`list_families` to reach them, or register your own with
``@register_family``. A family (:class:`Family`, in :mod:`layers.family`) also declares what
the harness asks about it: pictures, `wsbench train` flags, `wsbench speed` rows. Custom
layers build on :class:`SpatialLayer` (the Conv2D arguments) and :class:`RoutedLayer`
(the conv / mix routes).
"""

from layers.registry import (Family, FamilyError, SpeedSpec, SpeedTarget, TrainFlag, family_of, get_family,
                             list_families, plugin_errors, register_family)
from layers import families as _families  # noqa: F401  (registers the built-ins)
from layers.coordconv import CoordConv2D
from layers.locally_connected import LocallyConnected2D
from layers.lrlc import LowRankLocallyConnected2D
from layers.routes import RoutedLayer
from layers.sisws import SISWS2D
from layers.spatial_layer import SpatialLayer

__all__ = [
    "Family", "FamilyError", "get_family", "list_families", "plugin_errors", "register_family", "family_of",
    "TrainFlag", "SpeedSpec", "SpeedTarget",
    "CoordConv2D", "LocallyConnected2D", "LowRankLocallyConnected2D", "SISWS2D",
    "SpatialLayer", "RoutedLayer",
]
