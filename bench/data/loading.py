"""Datasets of the benchmark: loading, checking, scaling and the one split rule.

Every dataset, built in or user supplied, goes through the same steps:

1. its source yields raw arrays, either an official (train, test) pair (keras datasets,
   ``.npz`` files) or a single pool (digits, mnist-5k, faces, shapes), from which a stratified test
   split of ``test_fraction`` (default 20 %) is cut with a fixed seed that does not change
   with ``seed``, so every run of the benchmark is tested on the same images;
2. the arrays are checked (rank, finite pixels, integer labels 0..K-1, lengths, >= 2
   classes); anything wrong raises DatasetError naming the bad key or value;
3. optionally ``max_train`` / ``max_test`` keep a stratified subset (fixed seed);
4. pixels are scaled to float32 in [0, 1] and given a channel axis: (N, H, W, C);
5. validation (``val_fraction``, default 15 %) is carved out of train with ``seed``,
   stratified when every class can be represented on both sides.

The test split is never touched by the split of train into train and validation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from bench.data import checks, splits
from bench.data.npz import NPZ_KEYS, NpzFile
from bench.data.registry import DATASETS, DatasetError, DatasetSource, is_npz

#: Seed of the test split for datasets without an official one. Fixed on purpose: it must
#: not move with the per-run ``seed``, or different runs would be tested on different images.
TEST_SPLIT_SEED = 20240


@dataclass(frozen=True, eq=False)
class Dataset:
    """A dataset split into train, validation and test.

    Images are float32 in [0, 1] with shape (N, H, W, C); labels are int64 in
    [0, num_classes). ``eq=False`` because equality of numpy fields is not a bool.

    Attributes:
        name: the name (or ``.npz`` path) it was loaded with.
        x_train, y_train: training images and labels (validation already removed).
        x_val, y_val: validation images and labels, carved from train with the seed.
        x_test, y_test: test images and labels, kept apart from tuning.
        num_classes: number of classes K; labels are 0..K-1.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Shape of one image, (H, W, C)."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    def sizes(self) -> dict[str, int]:
        """Number of images per split: {"train": n, "val": n, "test": n}."""
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


def resolve_source(name) -> DatasetSource:
    """The source of a registered dataset name, or of a path to an ``.npz`` file.

    Raises:
        DatasetError: naming the value and the accepted names.
    """
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str):
        raise DatasetError(f"dataset name {name!r} is not a string; accepted: "
                           f"{', '.join(DATASETS.names())}, or a path to a .npz file")
    if is_npz(name):
        return NpzFile(name)
    if name in DATASETS.names():
        return DATASETS.get(name)
    raise DatasetError(f"unknown dataset {name!r}; accepted: {', '.join(DATASETS.names())}, or a path "
                       f"to a .npz file holding {', '.join(NPZ_KEYS)}")


def load_dataset(name: str, *, val_fraction: float = 0.15, seed: int = 0,
                 **options) -> Dataset:
    """Load, check, scale and split a dataset.

    Args:
        name: a registered dataset name, or a path ending in ``.npz`` holding x_train, y_train,
            x_test, y_test (images (N, H, W) or (N, H, W, C), any size; labels 0..K-1).
        val_fraction: share of the training images carved out for validation, in (0, 1).
        seed: seed of the validation split; the test split never depends on it.
        **options: accepted by every dataset: ``max_train`` / ``max_test`` (keep a
            stratified subset of that many train / test images, fixed seed; None keeps
            all). Datasets without an official test split (digits, mnist-5k, faces, shapes-*):
            ``test_fraction`` (default 0.2). shapes-*: ``size`` (24), ``count`` (12000),
            ``noise`` (0.15, std of Gaussian pixel noise), ``data_seed`` (0, generator seed).

    Returns:
        A Dataset with float32 images in [0, 1] of rank 4 and int64 labels.

    Raises:
        DatasetError: unknown name or option, bad option value, or bad data (missing keys,
            wrong rank, non-finite pixels, non-integer / negative / out-of-range labels,
            length mismatch, fewer than 2 classes). The message names the bad value.
    """
    source = resolve_source(name)
    name = source.name
    checks.check_fraction(val_fraction, "val_fraction")
    checks.check_seed(seed, "seed")
    # Options of the split itself; the rest go to the source (shapes: size, count, ...).
    split_defaults = {"max_train": None, "max_test": None}
    if source.pooled:
        split_defaults["test_fraction"] = 0.2
    source_options = source.options()
    unknown = sorted(set(options) - source_options - set(split_defaults))
    if unknown:
        accepted = sorted(source_options | set(split_defaults))
        raise DatasetError(f"dataset {name!r} does not take option(s) {', '.join(unknown)}; "
                           f"accepted: val_fraction, seed, {', '.join(accepted)}")
    split = {key: options.pop(key, default) for key, default in split_defaults.items()}
    checks.check_limit(split["max_train"], "max_train")
    checks.check_limit(split["max_test"], "max_test")
    if source.pooled:
        checks.check_fraction(split["test_fraction"], "test_fraction")

    raw = source.load(**options)
    x_train = checks.check_images(raw.x_train, "x_train")
    y_train = checks.check_labels(raw.y_train, "y_train", len(x_train))
    if source.pooled:
        num_classes = checks.class_count(y_train, None)
        x_train, y_train, x_test, y_test = splits.split(x_train, y_train, split["test_fraction"],
                                                  TEST_SPLIT_SEED, num_classes, "test_fraction")
    else:
        x_test = checks.check_images(raw.x_test, "x_test")
        y_test = checks.check_labels(raw.y_test, "y_test", len(x_test))
        num_classes = checks.class_count(y_train, y_test)
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetError(f"x_train images have shape {x_train.shape[1:]} but x_test images "
                           f"have {x_test.shape[1:]}; both must match")

    x_train, y_train = splits.subsample(x_train, y_train, split["max_train"], num_classes)
    x_test, y_test = splits.subsample(x_test, y_test, split["max_test"], num_classes)
    x_train, x_test = splits.scale_pixels(x_train, x_test)
    x_train, y_train, x_val, y_val = splits.split(x_train, y_train, val_fraction, seed,
                                            num_classes, "val_fraction")
    return Dataset(name=name, x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
                   x_test=x_test, y_test=y_test, num_classes=num_classes)
