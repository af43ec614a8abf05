"""Datasets of the benchmark: loading, checking, scaling and the one split rule.

Every dataset, built in or user supplied, goes through the same steps:

1. its source yields raw arrays, either an official (train, test) pair (keras datasets,
   ``.npz`` files) or a single pool (digits, faces, shapes), from which a stratified test
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

import inspect
import math
import numbers
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
from sklearn.model_selection import train_test_split

from bench.data import synthetic_shapes

#: Seed of the test split for datasets without an official one. Fixed on purpose: it must
#: not move with the per-run ``seed``, or different runs would be tested on different images.
TEST_SPLIT_SEED = 20240
#: Seed of the optional ``max_train`` / ``max_test`` subsampling, fixed for the same reason.
SUBSAMPLE_SEED = 20241
#: Keys a user ``.npz`` file must hold.
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


class DatasetError(ValueError):
    """A dataset name, option or array that cannot be used, with what would be accepted."""


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


class _Raw(NamedTuple):
    """Arrays straight from a source; ``x_test`` is None when the source has no test split."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None


# ---------------------------------------------------------------- sources


def _digits() -> _Raw:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    # Digit pixels are counts 0..16 (4x4 blocks of a 32x32 bitmap), so 16 is the true maximum.
    return _Raw(bunch.images / 16.0, bunch.target)


def _faces() -> _Raw:
    from skimage.data import lfw_subset

    images = lfw_subset()
    # lfw_subset: the first 100 images are faces, the last 100 are background crops.
    labels = np.zeros(len(images), dtype=np.int64)
    labels[:100] = 1
    return _Raw(images, labels)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_shape_options(size, count, noise, data_seed, num_classes: int) -> None:
    if not _is_int(size) or size < 12:
        raise DatasetError(f"size={size!r} is not accepted; give an integer >= 12 (pixels)")
    if not _is_int(count) or count < 10 * num_classes:
        raise DatasetError(f"count={count!r} is not accepted; give an integer >= "
                           f"{10 * num_classes} (10 images per class)")
    if not _is_number(noise) or not 0 <= noise <= 1:
        raise DatasetError(f"noise={noise!r} is not accepted; give a number in [0, 1]")
    _check_seed(data_seed, "data_seed")


def _shapes_anywhere(size: int = 32, count: int = 3000, noise: float = 0.15,
                     data_seed: int = 0) -> _Raw:
    _check_shape_options(size, count, noise, data_seed, len(synthetic_shapes.SHAPE_KINDS))
    made = synthetic_shapes.make_shapes_anywhere(count=count, size=size, noise=noise,
                                                 seed=data_seed)
    return _Raw(made.x, made.y)


def _shapes_aligned(size: int = 32, count: int = 3000, noise: float = 0.15,
                    data_seed: int = 0) -> _Raw:
    _check_shape_options(size, count, noise, data_seed, len(synthetic_shapes.ALIGNED_KINDS) ** 2)
    made = synthetic_shapes.make_shapes_aligned(count=count, size=size, noise=noise,
                                                seed=data_seed)
    return _Raw(made.x, made.y)


def _keras_source(module_name: str) -> Callable[[], _Raw]:
    def load() -> _Raw:
        # Imported here so the offline datasets do not pay TensorFlow's import time.
        import keras

        loader = getattr(keras.datasets, module_name).load_data
        try:
            (x_train, y_train), (x_test, y_test) = loader()
        except Exception as err:  # keras raises bare Exception on a failed download
            home = os.environ.get("KERAS_HOME", "~/.keras")
            raise DatasetError(
                f"could not load {module_name!r} through keras.datasets.{module_name}."
                f"load_data(); it downloads once into {home}/datasets and then reads the "
                f"cached copy (no network here? copy the files there first): {err}") from err
        return _Raw(x_train, y_train, x_test, y_test)

    return load


def _npz(path: str) -> _Raw:
    file = Path(path).expanduser()
    if not file.is_file():
        raise DatasetError(f"dataset file {path!r} does not exist; give an existing .npz "
                           f"holding {', '.join(NPZ_KEYS)}")
    try:
        with np.load(file, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise DatasetError(
                    f"{path!r} lacks key(s) {', '.join(missing)}; a dataset .npz must hold "
                    f"{', '.join(NPZ_KEYS)} (found: {', '.join(archive.files) or 'nothing'})")
            arrays = {key: archive[key] for key in NPZ_KEYS}
    except DatasetError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise DatasetError(f"cannot read {path!r} as a numpy .npz file with numeric arrays "
                           f"{', '.join(NPZ_KEYS)}: {err}") from err
    return _Raw(**arrays)


class _Source(NamedTuple):
    load: Callable[..., _Raw]
    description: str
    #: True when the source has no official test split, so one is cut with TEST_SPLIT_SEED.
    pooled: bool = False


_SOURCES: dict[str, _Source] = {
    "digits": _Source(_digits, "scikit-learn's bundled 8x8 handwritten digits, 10 classes "
                               "(1797 images, offline)", pooled=True),
    "faces": _Source(_faces, "scikit-image's bundled LFW subset, 25x25 grey, face vs "
                             "non-face (200 images, offline)", pooled=True),
    "shapes-aligned": _Source(_shapes_aligned, "generated 32x32: shapes in two fixed slots, "
                                               "class = which shape where (9 classes, "
                                               "position-specific)", pooled=True),
    "shapes-anywhere": _Source(_shapes_anywhere, "generated 32x32: one shape anywhere, class "
                                                 "= which shape (4 classes, "
                                                 "translation-invariant)", pooled=True),
    "mnist": _Source(_keras_source("mnist"), "keras.datasets MNIST digits, 28x28 grey, 10 "
                                             "classes (downloads once, then cached)"),
    "fashion_mnist": _Source(_keras_source("fashion_mnist"), "keras.datasets Fashion-MNIST, "
                                                             "28x28 grey, 10 classes "
                                                             "(downloads once, then cached)"),
    "cifar10": _Source(_keras_source("cifar10"), "keras.datasets CIFAR-10, 32x32 colour, 10 "
                                                 "classes (downloads once, then cached)"),
}

#: Names of the built-in datasets; any path ending in ``.npz`` is accepted as well.
DATASETS: tuple[str, ...] = tuple(_SOURCES)


def describe_datasets() -> list[tuple[str, str]]:
    """One (name, one-line description) pair per built-in dataset, in DATASETS order."""
    return [(name, source.description) for name, source in _SOURCES.items()]


# ---------------------------------------------------------------- checks


def _check_seed(seed, what: str) -> None:
    if not _is_int(seed) or not 0 <= seed < 2**32:
        raise DatasetError(f"{what}={seed!r} is not accepted; give an integer in [0, 2**32)")


def _check_fraction(value, what: str) -> None:
    if not _is_number(value) or not 0 < value < 1:
        raise DatasetError(f"{what}={value!r} is not accepted; give a number strictly "
                           "between 0 and 1")


def _check_limit(value, what: str) -> None:
    if value is None:
        return
    if not _is_int(value) or value < 1:
        raise DatasetError(f"{what}={value!r} is not accepted; give a positive integer or None")


def _check_images(x, key: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise DatasetError(f"{key} has shape {x.shape} (rank {x.ndim}); accepted: rank 3 "
                           "(N, H, W) for grey or rank 4 (N, H, W, C) with channels last")
    if min(x.shape) < 1:
        raise DatasetError(f"{key} has shape {x.shape}; every dimension must be at least 1")
    if x.dtype == bool or not (np.issubdtype(x.dtype, np.integer)
                               or np.issubdtype(x.dtype, np.floating)):
        raise DatasetError(f"{key} has dtype {x.dtype}; accepted: integer or float pixels")
    if np.issubdtype(x.dtype, np.floating):
        finite = np.isfinite(x)
        if not finite.all():
            bad = np.argwhere(~finite)[0]
            raise DatasetError(
                f"{key} has {int((~finite).sum())} non-finite pixel value(s), first "
                f"{x[tuple(bad)]} at index {tuple(int(i) for i in bad)}; pixels must be "
                "finite numbers (no NaN or inf)")
    return x


def _check_labels(y, key: str, n_images: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]  # CIFAR-style (N, 1) labels
    if y.ndim != 1:
        raise DatasetError(f"{key} has shape {y.shape}; accepted: integer class labels of "
                           "shape (N,) or (N, 1), not one-hot")
    if len(y) != n_images:
        x_key = key.replace("y_", "x_")
        raise DatasetError(f"{key} has {len(y)} labels but {x_key} has {n_images} images; "
                           "they must have the same length")
    if np.issubdtype(y.dtype, np.integer):
        pass
    elif np.issubdtype(y.dtype, np.floating):
        whole = np.isfinite(y) & (y == np.round(y))
        if not whole.all():
            index = int(np.argmin(whole))
            raise DatasetError(f"{key} holds non-integer label {y[index]} at index {index}; "
                               "labels must be whole numbers 0..K-1")
    else:
        raise DatasetError(f"{key} has dtype {y.dtype}; labels must be integers 0..K-1")
    y = y.astype(np.int64)
    if (y < 0).any():
        index = int(np.argmax(y < 0))
        raise DatasetError(f"{key} holds negative label {y[index]} at index {index}; labels "
                           "must be integers 0..K-1")
    return y


def _num_classes(y_train: np.ndarray, y_test: np.ndarray | None) -> int:
    """K such that labels are 0..K-1, each present in train; test labels within range."""
    present = np.unique(y_train)
    num_classes = int(present[-1]) + 1
    if num_classes < 2:
        raise DatasetError(f"y_train holds a single class ({present.tolist()}); a "
                           "classification dataset needs at least 2 classes")
    missing = sorted(set(range(num_classes)) - set(present.tolist()))
    if missing:
        raise DatasetError(
            f"labels must be 0..K-1 with every class present in y_train, but y_train has "
            f"labels up to {num_classes - 1} and none of {missing[:10]}"
            + (" ..." if len(missing) > 10 else ""))
    if y_test is not None and (y_test >= num_classes).any():
        bad = int(y_test[np.argmax(y_test >= num_classes)])
        raise DatasetError(f"y_test holds label {bad}, out of range: y_train's classes are "
                           f"0..{num_classes - 1}")
    return num_classes


# ---------------------------------------------------------------- scaling and splitting


def _scale_pixels(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float32 in [0, 1] with a channel axis.

    uint8 (and any integers within 0..255) are divided by 255; data already within [0, 1]
    is kept; anything else (e.g. 16-bit scans) is min-max scaled with train's range and
    test is clipped to it, so no statistic is taken from test.
    """
    lo, hi = float(x_train.min()), float(x_train.max())
    integer = np.issubdtype(x_train.dtype, np.integer) and np.issubdtype(x_test.dtype, np.integer)
    if integer and lo >= 0 and hi <= 255 and x_test.min() >= 0 and x_test.max() <= 255:
        offset, scale = 0.0, 255.0
    elif lo >= 0 and hi <= 1 and x_test.min() >= 0 and x_test.max() <= 1:
        offset, scale = 0.0, 1.0
    elif hi > lo:
        offset, scale = lo, hi - lo
    else:
        raise DatasetError(f"x_train has every pixel equal to {lo}; there is nothing to learn")

    def convert(x):
        x = (x.astype(np.float32) - np.float32(offset)) / np.float32(scale)
        x = np.clip(x, 0.0, 1.0)
        return x[..., None] if x.ndim == 3 else x

    return convert(x_train), convert(x_test)


def _split_indices(y: np.ndarray, n_held: int, seed: int, num_classes: int):
    """(kept, held) index arrays, shuffled, stratified when every class fits on both sides.

    Indices rather than arrays go through scikit-learn so a large image array is copied
    only for the rows that are kept.
    """
    counts = np.bincount(y, minlength=num_classes)
    present = int((counts > 0).sum())
    can_stratify = counts[counts > 0].min() >= 2 and present <= n_held <= len(y) - present
    kept, held = train_test_split(np.arange(len(y)), test_size=n_held, random_state=seed,
                                  stratify=y if can_stratify else None)
    return kept, held


def _split(x, y, fraction: float, seed: int, num_classes: int, what: str):
    """(x_keep, y_keep, x_held, y_held) with ceil(fraction * N) images held out."""
    # Rounded first so float fuzz (0.07 * 100 = 7.000000000000001) does not add an image.
    n_held = math.ceil(round(fraction * len(y), 9))
    if n_held >= len(y):
        raise DatasetError(f"{what}={fraction} of {len(y)} images leaves no image on the "
                           "other side; use a larger dataset or a smaller fraction")
    kept, held = _split_indices(y, n_held, seed, num_classes)
    return x[kept], y[kept], x[held], y[held]


def _subsample(x, y, limit: int | None, num_classes: int):
    """At most `limit` images, stratified, in their original order."""
    if limit is None or limit >= len(y):
        return x, y
    kept, _ = _split_indices(y, len(y) - limit, SUBSAMPLE_SEED, num_classes)
    kept = np.sort(kept)
    return x[kept], y[kept]


# ---------------------------------------------------------------- entry point


def _resolve_source(name) -> tuple[str, _Source, dict]:
    """(name, source, arguments fixed by the name) for a built-in name or a .npz path."""
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str):
        raise DatasetError(f"dataset name {name!r} is not a string; accepted: "
                           f"{', '.join(DATASETS)}, or a path to a .npz file")
    if name in _SOURCES:
        return name, _SOURCES[name], {}
    if name.endswith(".npz"):
        return name, _Source(_npz, "user arrays"), {"path": name}
    raise DatasetError(f"unknown dataset {name!r}; accepted: {', '.join(DATASETS)}, or a path "
                       f"to a .npz file holding {', '.join(NPZ_KEYS)}")


def load_dataset(name: str, *, val_fraction: float = 0.15, seed: int = 0,
                 **options) -> Dataset:
    """Load, check, scale and split a dataset.

    Args:
        name: one of DATASETS, or a path ending in ``.npz`` holding x_train, y_train,
            x_test, y_test (images (N, H, W) or (N, H, W, C), any size; labels 0..K-1).
        val_fraction: share of the training images carved out for validation, in (0, 1).
        seed: seed of the validation split; the test split never depends on it.
        **options: accepted by every dataset: ``max_train`` / ``max_test`` (keep a
            stratified subset of that many train / test images, fixed seed; None keeps
            all). Datasets without an official test split (digits, faces, shapes-*):
            ``test_fraction`` (default 0.2). shapes-*: ``size`` (32), ``count`` (3000),
            ``noise`` (0.15, std of Gaussian pixel noise), ``data_seed`` (0, generator seed).

    Returns:
        A Dataset with float32 images in [0, 1] of rank 4 and int64 labels.

    Raises:
        DatasetError: unknown name or option, bad option value, or bad data (missing keys,
            wrong rank, non-finite pixels, non-integer / negative / out-of-range labels,
            length mismatch, fewer than 2 classes). The message names the bad value.
    """
    name, source, fixed_args = _resolve_source(name)
    _check_fraction(val_fraction, "val_fraction")
    _check_seed(seed, "seed")
    # Options of the split itself; the rest go to the source (shapes: size, count, ...).
    split_defaults = {"max_train": None, "max_test": None}
    if source.pooled:
        split_defaults["test_fraction"] = 0.2
    source_options = set(inspect.signature(source.load).parameters) - set(fixed_args)
    unknown = sorted(set(options) - source_options - set(split_defaults))
    if unknown:
        accepted = sorted(source_options | set(split_defaults))
        raise DatasetError(f"dataset {name!r} does not take option(s) {', '.join(unknown)}; "
                           f"accepted: val_fraction, seed, {', '.join(accepted)}")
    split = {key: options.pop(key, default) for key, default in split_defaults.items()}
    _check_limit(split["max_train"], "max_train")
    _check_limit(split["max_test"], "max_test")
    if source.pooled:
        _check_fraction(split["test_fraction"], "test_fraction")

    raw = source.load(**fixed_args, **options)
    x_train = _check_images(raw.x_train, "x_train")
    y_train = _check_labels(raw.y_train, "y_train", len(x_train))
    if source.pooled:
        num_classes = _num_classes(y_train, None)
        x_train, y_train, x_test, y_test = _split(x_train, y_train, split["test_fraction"],
                                                  TEST_SPLIT_SEED, num_classes, "test_fraction")
    else:
        x_test = _check_images(raw.x_test, "x_test")
        y_test = _check_labels(raw.y_test, "y_test", len(x_test))
        num_classes = _num_classes(y_train, y_test)
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetError(f"x_train images have shape {x_train.shape[1:]} but x_test images "
                           f"have {x_test.shape[1:]}; both must match")

    x_train, y_train = _subsample(x_train, y_train, split["max_train"], num_classes)
    x_test, y_test = _subsample(x_test, y_test, split["max_test"], num_classes)
    x_train, x_test = _scale_pixels(x_train, x_test)
    x_train, y_train, x_val, y_val = _split(x_train, y_train, val_fraction, seed,
                                            num_classes, "val_fraction")
    return Dataset(name=name, x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
                   x_test=x_test, y_test=y_test, num_classes=num_classes)
