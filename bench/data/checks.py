"""Checks on a dataset's arrays and options: each failure names the bad key or value."""

from __future__ import annotations

import numbers

import numpy as np

from bench.data.registry import DatasetError


def is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_seed(seed, what: str) -> None:
    if not is_int(seed) or not 0 <= seed < 2**32:
        raise DatasetError(f"{what}={seed!r} is not accepted; give an integer in [0, 2**32)")


def check_fraction(value, what: str) -> None:
    if not is_number(value) or not 0 < value < 1:
        raise DatasetError(f"{what}={value!r} is not accepted; give a number strictly "
                           "between 0 and 1")


def check_limit(value, what: str) -> None:
    if value is None:
        return
    if not is_int(value) or value < 1:
        raise DatasetError(f"{what}={value!r} is not accepted; give a positive integer or None")


def check_images(x, key: str) -> np.ndarray:
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


def check_labels(y, key: str, n_images: int) -> np.ndarray:
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


def class_count(y_train: np.ndarray, y_test: np.ndarray | None) -> int:
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
