"""The dataset registry: what wsbench can load by name, and its raw arrays.

A dataset source is a :class:`DatasetSource` registered under a name. Built-ins are the
modules of :mod:`bench.data.sources` (a new dataset is a new file there); a third-party
package registers one under the ``wsbench.datasets`` entry-point group::

    from bench.data import DatasetSource, RawArrays, register_dataset

    @register_dataset("my-scans")
    class MyScans(DatasetSource):
        description = "my scans, 64x64 grey, 3 classes"
        pooled = True  # no official test split: a fixed one is cut

        def load(self, size: int = 64) -> RawArrays:
            ...

Keyword arguments of ``load`` are the dataset's options (see :func:`bench.data.load_dataset`).
Any path ending in ``.npz`` is a dataset too (:mod:`bench.data.npz`).
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import NamedTuple, Optional, Set

import numpy as np

from layers.plugins import PluginError, Registry, import_package_modules, instances_of

ENTRY_POINT_GROUP = "wsbench.datasets"


class DatasetError(PluginError):
    """A dataset name, option or array that cannot be used, with what would be accepted."""


class RawArrays(NamedTuple):
    """Arrays straight from a source; ``x_test`` is None when the source has no test split."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: Optional[np.ndarray] = None
    y_test: Optional[np.ndarray] = None


class DatasetSource:
    """A dataset wsbench can load.

    Attributes:
        name: registry name (set on registration).
        description: one line: what it is, its image size and classes, whether it is offline.
        pooled: True when the source has no official test split, so a fixed one is cut.
        known_answer: what the benchmark must find on this dataset, for datasets built to
            have a known answer: ``'what-is-where'`` (the class depends on where things are:
            position-aware families must beat conv) or ``'what-only'`` (it does not: conv
            must be at least as good as locally_connected); None for ordinary data.
    """

    name: str = ""
    description: str = ""
    pooled: bool = False
    known_answer: Optional[str] = None

    def load(self, **options) -> RawArrays:
        raise NotImplementedError

    def options(self) -> Set[str]:
        """The names of the options :meth:`load` takes."""
        return set(inspect.signature(self.load).parameters)


DATASETS = Registry("dataset", ENTRY_POINT_GROUP, lambda: import_package_modules("bench.data.sources"),
                    plugin_type=DatasetSource, make=instances_of(DatasetSource, DatasetError, "register_dataset"),
                    error=DatasetError)


def register_dataset(name: str):
    """Decorator registering a :class:`DatasetSource` (class or instance) under ``name``."""
    return DATASETS.register(name)


def dataset_names() -> list:
    """Names of the registered datasets."""
    return DATASETS.names()


def describe_datasets() -> list:
    """One (name, one-line description) pair per registered dataset."""
    return [(name, DATASETS.get(name).description) for name in DATASETS.names()]


def is_npz(name) -> bool:
    return isinstance(name, (str, os.PathLike)) and os.fspath(name).endswith(".npz")


def dataset_key(name) -> str:
    """A file-name-safe key of a dataset: its registry name, or an .npz file's stem."""
    return Path(os.fspath(name)).stem if is_npz(name) else str(name)
