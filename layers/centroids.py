"""SISWS centroids: their layout (a grid or a number at random) and their similarity maps.

Output cell (i, j) sits at p_ij = (x_j, y_i) with y = linspace(0, scale, H_out),
x = linspace(0, scale, W_out). Centroid s sits at c_s = (x_s, y_s) with a 2×2 matrix A_s;
its similarity is S_s(i, j) = exp(−‖A_s (c_s − p_ij)‖²), optionally divided by Σ_s S_s.
"""

from __future__ import annotations

import math

import numpy as np


def check_n_centroids(n_centroids):
    """Returns an int (random init) or a (rows, cols) tuple (grid init); raises otherwise."""
    if isinstance(n_centroids, bool):
        pass
    elif isinstance(n_centroids, (int, np.integer)):
        if n_centroids >= 1:
            return int(n_centroids)
    elif isinstance(n_centroids, (list, tuple)) and len(n_centroids) == 2:
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in n_centroids):
            return (int(n_centroids[0]), int(n_centroids[1]))
    raise ValueError(
        f"n_centroids={n_centroids!r} is not accepted: give a positive int (random initialisation) "
        f"or a (rows, cols) pair of positive ints (grid initialisation)."
    )


def centroid_count(n_centroids) -> int:
    n = check_n_centroids(n_centroids)
    return n if isinstance(n, int) else n[0] * n[1]


def grid_centroids(rows: int, cols: int, scale: float) -> np.ndarray:
    """Interior-grid centroids, shape [rows·cols, 2] as (x, y), row-major over (row, col)."""
    ys = np.linspace(scale / (rows + 1), scale - scale / (rows + 1), rows)
    xs = np.linspace(scale / (cols + 1), scale - scale / (cols + 1), cols)
    xx, yy = np.meshgrid(xs, ys)
    return np.stack([xx.ravel(), yy.ravel()], axis=-1).astype("float32")


def similarity_logits(centroids, bandwidth, out_h: int, out_w: int, scale: float):
    """−‖A_s (c_s − p_ij)‖² for every cell and KCP.

    Args:
        centroids: [F, S, 2] as (x, y).
        bandwidth: [F, S, 2, 2], the matrices A_s.

    Returns:
        [out_h, out_w, F, S].
    """
    from keras import ops  # here, not at the top: the families' registry reads the layouts without Keras

    ys = ops.reshape(ops.linspace(0.0, scale, out_h), (out_h, 1, 1, 1))
    xs = ops.reshape(ops.linspace(0.0, scale, out_w), (1, out_w, 1, 1))
    dx = centroids[..., 0] - xs  # [1, W, F, S]
    dy = centroids[..., 1] - ys  # [H, 1, F, S]
    u = bandwidth[..., 0, 0] * dx + bandwidth[..., 0, 1] * dy
    v = bandwidth[..., 1, 0] * dx + bandwidth[..., 1, 1] * dy
    return -(ops.square(u) + ops.square(v))


def similarities(centroids, bandwidth, out_h, out_w, scale, local_normalization):
    """S_s(i, j), shape [out_h, out_w, F, S]; normalised over S when asked."""
    from keras import ops
    logits = similarity_logits(centroids, bandwidth, out_h, out_w, scale)
    # softmax(−d²) equals exp(−d²)/Σ exp(−d²) but cannot underflow to 0/0 far from every centroid.
    return ops.softmax(logits, axis=-1) if local_normalization else ops.exp(logits)


def layout_for_count(count: int):
    """The layout of ``count`` centroids: a square number becomes a grid (as the tuner's
    'gridRxR' layouts), any other number is placed at random."""
    root = math.isqrt(count)
    return (root, root) if root * root == count else count
