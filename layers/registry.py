"""The family registry: built-in layer families and third-party plugins.

A *family* bundles a Keras 3 layer factory, the keras-tuner hyperparameters the family
declares, and exact analytic formulas for its parameter count and multiply-accumulates.
Built-in families register themselves with ``@register_family``; third-party packages
expose a module (or a ``Family`` subclass) under the entry-point group
``wsbench.families`` and are loaded once, lazily, the first time the registry is read.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
from typing import Any, Dict, List, Optional, Tuple

import keras

from layers.shapes import check_filters, check_padding, conv_output_shape, pair

ENTRY_POINT_GROUP = "wsbench.families"
#: A family name ends up in file and directory names (models/<family>__<budget>.keras, the
#: tuner's project directories), so it may hold no path separator or other surprise.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
DISABLE_PLUGINS_ENV = "WSBENCH_DISABLE_PLUGINS"


class FamilyError(ValueError):
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


_REGISTRY: Dict[str, Family] = {}
_PLUGIN_ERRORS: Dict[str, FamilyError] = {}
_plugins_loaded = False


def register_family(name: str):
    """Class decorator that registers a :class:`Family` subclass under ``name``.

    Raises:
        FamilyError: if ``name`` is already registered.
    """
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise FamilyError(f"family name {name!r} is not accepted: give letters, digits, '_', '.' or '-', starting "
                          f"with a letter or digit (it becomes part of file names).")

    def decorator(cls):
        if not (isinstance(cls, type) and issubclass(cls, Family)):
            raise FamilyError(f"@register_family({name!r}) decorates {cls!r}, which is not a Family subclass.")
        if name in _REGISTRY:
            raise FamilyError(
                f"family name {name!r} is already registered by {_REGISTRY[name].source}; choose another name."
            )
        instance = cls()
        instance.name = name
        _REGISTRY[name] = instance
        return cls

    return decorator


def _load_plugins() -> None:
    """Imports every ``wsbench.families`` entry point once. A failing plugin is remembered
    (and raised when its name is asked for) so the other families keep working."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    if os.environ.get(DISABLE_PLUGINS_ENV, "") not in ("", "0"):
        return
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        dist_label = f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"
        before = set(_REGISTRY)
        try:
            loaded = ep.load()
            # An entry point may name a Family subclass instead of a module that registers
            # one; it is registered under the entry point's name unless it already is.
            if (isinstance(loaded, type) and issubclass(loaded, Family)
                    and not any(type(f) is loaded for f in _REGISTRY.values())):
                register_family(ep.name)(loaded)
        except FamilyError as exc:
            _PLUGIN_ERRORS[ep.name] = FamilyError(
                f"plugin entry point {ep.name!r} ({ep.value}) from {dist_label} failed: {exc}"
            )
            continue
        except Exception as exc:  # noqa: BLE001 - any import failure of third-party code
            _PLUGIN_ERRORS[ep.name] = FamilyError(
                f"plugin entry point {ep.name!r} ({ep.value}) from {dist_label} failed to import: "
                f"{type(exc).__name__}: {exc}"
            )
            continue
        for new in set(_REGISTRY) - before:
            _REGISTRY[new].source = f"plugin {dist_label}"


def _ensure_loaded() -> None:
    # Built-ins register on import of the ``layers`` package; plugins lazily.
    importlib.import_module("layers.families")
    _load_plugins()


def get_family(name: str) -> Family:
    """Returns the registered family called ``name``.

    Raises:
        FamilyError: naming the unknown value and the known families, or the plugin
            entry point that failed to provide it.
    """
    _ensure_loaded()
    if name in _REGISTRY:
        return _REGISTRY[name]
    if name in _PLUGIN_ERRORS:
        raise _PLUGIN_ERRORS[name]
    extra = f"; plugins that failed to load: {sorted(_PLUGIN_ERRORS)}" if _PLUGIN_ERRORS else ""
    raise FamilyError(f"unknown family {name!r}: known families are {sorted(_REGISTRY)}{extra}.")


def list_families() -> List[str]:
    """Names of all registered families (built-in first, in registration order)."""
    _ensure_loaded()
    return list(_REGISTRY)


def plugin_errors() -> Dict[str, str]:
    """Entry-point name → error message for every plugin that failed to load."""
    _ensure_loaded()
    return {k: str(v) for k, v in _PLUGIN_ERRORS.items()}
