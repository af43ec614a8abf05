"""The family registry: built-in layer families and third-party plugins.

A *family* bundles a Keras 3 layer factory, the keras-tuner hyperparameters the family
declares, and exact analytic formulas for its parameter count and multiply-accumulates.
Built-in families register themselves with ``@register_family``; third-party packages
expose a module (or a ``Family`` subclass) under the entry-point group
``wsbench.families`` and are loaded once, lazily, the first time the registry is read.
"""

from __future__ import annotations

import importlib
from typing import Any, Dict, List, Optional, Tuple

import keras

from layers.plugins import PluginError, Registry
from layers.shapes import check_filters, check_padding, conv_output_shape, pair

ENTRY_POINT_GROUP = "wsbench.families"


class FamilyError(PluginError):
    """A family name that is unknown, registered twice, or a plugin that failed to load."""


class Family:
    """Base class of a layer family. Subclass it and decorate with ``@register_family``.

    Subclasses override :meth:`make_layer` (and usually :meth:`hyperparameters`,
    :meth:`param_count`, :meth:`macs`). ``build`` validates the shared arguments first so
    every family rejects bad input the same way.

    Attributes:
        name: registry name, set by ``register_family``.
        description: one line saying what the family is and how it shares weights.
        source: ``"built-in"`` or ``"plugin <distribution> <version>"``.
        hard_sharing_hp: family keyword arguments that make the layer a plain convolution
            (used by the golden cross-correlation tests); ``None`` if it cannot be.
    """

    name: str = ""
    description: str = ""
    source: str = "built-in"
    hard_sharing_hp: Optional[Dict[str, Any]] = {}

    # -- what subclasses provide -------------------------------------------------------
    def make_layer(self, filters: int, kernel_size, strides, padding: str, **hp) -> keras.layers.Layer:
        raise NotImplementedError

    def hyperparameters(self, hp) -> Dict[str, Any]:
        """Declares this family's keras-tuner hyperparameters on ``hp`` and returns the
        keyword arguments for :meth:`build`. The default declares none."""
        return {}

    def param_count(self, input_shape, filters: int, kernel_size, strides=1, padding="valid", **hp) -> int:
        """Exact number of *trainable* parameters of the layer on an (H, W, C) input."""
        raise NotImplementedError

    def macs(self, input_shape, filters: int, kernel_size, strides=1, padding="valid", **hp) -> int:
        """Multiply-accumulates per image in the layer's forward pass (analytic)."""
        raise NotImplementedError

    # -- shared entry points -------------------------------------------------------------
    def build(self, filters: int, kernel_size, strides=1, padding="valid", **hp) -> keras.layers.Layer:
        """Returns a new layer of this family, after validating the shared arguments.

        Raises:
            ValueError: filters <= 0, a bad kernel size/stride, or an unknown padding.
        """
        check_filters(filters)
        pair(kernel_size, "kernel_size")
        pair(strides, "strides")
        return self.make_layer(filters, kernel_size, strides, check_padding(padding), **hp)

    def output_shape(self, input_shape, filters: int, kernel_size, strides=1, padding="valid", **hp) -> Tuple[int, int, int]:
        """(out_h, out_w, filters) on an (H, W, C) input."""
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        return oh, ow, filters

    def __repr__(self) -> str:
        return f"<family {self.name!r} ({self.source})>"


def _make_family(cls, name: str) -> Family:
    if not (isinstance(cls, type) and issubclass(cls, Family)):
        raise FamilyError(f"@register_family({name!r}) decorates {cls!r}, which is not a Family subclass.")
    family = cls()
    family.name = name
    return family


def _import_builtins() -> None:
    importlib.import_module("layers.families")  # registration order: from hard sharing to none


FAMILIES = Registry("family", ENTRY_POINT_GROUP, _import_builtins, plural="families", plugin_type=Family,
                    make=_make_family, error=FamilyError)


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


def plugin_errors() -> Dict[str, str]:
    """Entry-point name → error message for every family plugin that failed to load."""
    return FAMILIES.errors()
