"""Scaling pixels and splitting arrays: the one split rule every dataset goes through."""

from __future__ import annotations

import math

import numpy as np

from bench.data.registry import DatasetError

#: Seed of the optional ``max_train`` / ``max_test`` subsampling, fixed: it must not move with
#: the per-run ``seed``, or different runs would train and test on different images.
SUBSAMPLE_SEED = 20241


def scale_pixels(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def split_indices(y: np.ndarray, n_held: int, seed: int, num_classes: int):
    """(kept, held) index arrays, shuffled, stratified when every class fits on both sides.

    Indices rather than arrays go through scikit-learn so a large image array is copied
    only for the rows that are kept.
    """
    counts = np.bincount(y, minlength=num_classes)
    present = int((counts > 0).sum())
    can_stratify = counts[counts > 0].min() >= 2 and present <= n_held <= len(y) - present
    from sklearn.model_selection import train_test_split  # here: scikit-learn takes a second to import

    kept, held = train_test_split(np.arange(len(y)), test_size=n_held, random_state=seed,
                                  stratify=y if can_stratify else None)
    return kept, held


def split(x, y, fraction: float, seed: int, num_classes: int, what: str):
    """(x_keep, y_keep, x_held, y_held) with ceil(fraction * N) images held out."""
    # Rounded first so float fuzz (0.07 * 100 = 7.000000000000001) does not add an image.
    n_held = math.ceil(round(fraction * len(y), 9))
    if n_held >= len(y):
        raise DatasetError(f"{what}={fraction} of {len(y)} images leaves no image on the "
                           "other side; use a larger dataset or a smaller fraction")
    kept, held = split_indices(y, n_held, seed, num_classes)
    return x[kept], y[kept], x[held], y[held]


def subsample(x, y, limit: int | None, num_classes: int):
    """At most `limit` images, stratified, in their original order."""
    if limit is None or limit >= len(y):
        return x, y
    kept, _ = split_indices(y, len(y) - limit, SUBSAMPLE_SEED, num_classes)
    kept = np.sort(kept)
    return x[kept], y[kept]
