"""A registry of named plugins of one kind: built-ins and third-party entry points.

wsbench has four such kinds (layer families, datasets, tuners, report figures); each is a
:class:`Registry`. Built-ins register themselves with the registry's decorator when their
module is imported; third-party packages expose a module (or an object of the kind) under
the registry's entry-point group and are loaded once, lazily, the first time the registry
is read. A plugin that fails to load is remembered and reported by name while every other
plugin keeps working; ``WSBENCH_DISABLE_PLUGINS=1`` turns plugins off.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import pkgutil
import re
from typing import Any, Callable, Dict, List, Optional, Sequence

DISABLE_PLUGINS_ENV = "WSBENCH_DISABLE_PLUGINS"
#: Plugin names end up in file and directory names (models/<family>__<budget>.keras, the
#: tuner's project directories, figure files), so they may hold no path separator or other surprise.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class PluginError(ValueError):
    """A plugin name that is unknown, registered twice, or a plugin that failed to load."""


def import_package_modules(package: str) -> None:
    """Imports every module of ``package`` in name order: a built-in plugin is a new file there."""
    module = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(module.__path__), key=lambda m: m.name):
        importlib.import_module(f"{package}.{info.name}")


class Registry:
    """Named plugins of one kind.

    Args:
        kind: what a plugin is, for messages ('family', 'dataset', ...).
        plural: the plural of ``kind`` (default: ``kind`` + 's').
        group: the entry-point group third-party packages register under.
        builtins: called once before the registry is first read; imports the built-ins.
        plugin_type: an entry point naming an object of this type (a subclass, for a type)
            registers it under the entry point's name.
        make: ``make(obj, name)`` turns a registered object into the stored entry (e.g.
            instantiates a class and gives it its name).
        error: the exception class raised for unknown or bad names.
    """

    def __init__(self, kind: str, group: str, builtins: Callable[[], None], *, plural: str = "",
                 plugin_type: Optional[type] = None,
                 make: Callable[[Any, str], Any] = lambda obj, name: obj, error: type = PluginError):
        self.kind, self.plural, self.group = kind, plural or kind + "s", group
        self._builtins, self._plugin_type, self._make, self._error = builtins, plugin_type, make, error
        self._entries: Dict[str, Any] = {}
        self._sources: Dict[str, str] = {}
        self._plugin_errors: Dict[str, Exception] = {}
        self._loaded = False

    # -- registering ---------------------------------------------------------------------
    def register(self, name: str):
        """Decorator registering an object under ``name``; returns the object unchanged.

        Raises:
            error: ``name`` is not a plain name, or is registered already.
        """
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            raise self._error(f"{self.kind} name {name!r} is not accepted: give letters, digits, '_', '.' or '-', "
                              f"starting with a letter or digit (it becomes part of file names).")

        def decorator(obj):
            if name in self._entries:
                raise self._error(f"{self.kind} name {name!r} is already registered by {self._sources[name]}; "
                                  f"choose another name.")
            self._entries[name] = self._make(obj, name)
            self._sources[name] = "built-in"
            return obj

        return decorator

    # -- reading -------------------------------------------------------------------------
    def get(self, name: str) -> Any:
        """The entry registered as ``name``.

        Raises:
            error: naming the unknown value and the known names, or the entry point that
                failed to provide it.
        """
        self._ensure_loaded()
        if name in self._entries:
            return self._entries[name]
        if name in self._plugin_errors:
            raise self._plugin_errors[name]
        extra = f"; plugins that failed to load: {sorted(self._plugin_errors)}" if self._plugin_errors else ""
        raise self._error(f"unknown {self.kind} {name!r}: known {self.plural} are {sorted(self._entries)}{extra}.")

    def names(self) -> List[str]:
        """Every registered name, built-ins first, in registration order."""
        self._ensure_loaded()
        return list(self._entries)

    def source(self, name: str) -> str:
        """'built-in' or 'plugin <distribution> <version>'."""
        self._ensure_loaded()
        return self._sources[name]

    def errors(self) -> Dict[str, str]:
        """Entry-point name → error message for every plugin that failed to load."""
        self._ensure_loaded()
        return {k: str(v) for k, v in self._plugin_errors.items()}

    # -- loading -------------------------------------------------------------------------
    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True  # first: a built-in module may read the registry while it loads
        self._builtins()
        if os.environ.get(DISABLE_PLUGINS_ENV, "") not in ("", "0"):
            return
        for ep in importlib.metadata.entry_points(group=self.group):
            self._load_entry_point(ep)

    def _load_entry_point(self, ep) -> None:
        dist = getattr(ep, "dist", None)
        label = f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"
        before = set(self._entries)
        try:
            loaded = ep.load()
            # An entry point may name an object of the kind instead of a module registering one;
            # it is registered under the entry point's name unless it already is.
            if self._is_plugin_object(loaded) and not self._holds(loaded):
                self.register(ep.name)(loaded)
        except self._error as exc:
            self._plugin_errors[ep.name] = self._error(
                f"plugin entry point {ep.name!r} ({ep.value}) from {label} failed: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - any import failure of third-party code
            self._plugin_errors[ep.name] = self._error(
                f"plugin entry point {ep.name!r} ({ep.value}) from {label} failed to import: "
                f"{type(exc).__name__}: {exc}")
            return
        for new in set(self._entries) - before:
            self._sources[new] = f"plugin {label}"

    def _is_plugin_object(self, obj) -> bool:
        if self._plugin_type is None:
            return False
        return issubclass(obj, self._plugin_type) if isinstance(obj, type) else isinstance(obj, self._plugin_type)

    def _holds(self, obj) -> bool:
        return any(entry is obj or type(entry) is obj for entry in self._entries.values())


def instances_of(base: type, error: type, decorator: str) -> Callable[[Any, str], Any]:
    """A ``make`` for a :class:`Registry` of ``base`` objects: a subclass is instantiated, an
    instance kept; either way the entry gets its registered name."""
    def make(obj, name: str):
        fits = issubclass(obj, base) if isinstance(obj, type) else isinstance(obj, base)
        if not fits:
            raise error(f"@{decorator}({name!r}) decorates {obj!r}, which is not a {base.__name__} subclass or "
                        f"instance.")
        entry = obj() if isinstance(obj, type) else obj
        entry.name = name
        return entry
    return make


def describe(registry: Registry, describe_entry: Callable[[Any], str] = lambda e: getattr(e, "description", "")
             ) -> Sequence[tuple]:
    """(name, source, one-line description) of every entry, then (name, 'plugin (failed)', error)."""
    rows = [(name, registry.source(name), describe_entry(registry.get(name))) for name in registry.names()]
    rows += [(name, "plugin (failed)", error) for name, error in registry.errors().items()]
    return rows
