"""Independent numpy references for the layer tests: plain loops, no layers/ code.

The padding rule is written out again here from TensorFlow's documentation (SAME pads
``max((out-1)·stride + k - n, 0)`` zeros, the smaller half before) rather than imported from
``layers.shapes``, so a mistake there cannot hide in both the layer and its reference.
"""

from __future__ import annotations

import math

import numpy as np


def as_pair(v):
    """``v`` as a (rows, cols) pair."""
    return (v, v) if isinstance(v, int) else tuple(v)


def out_size(n: int, k: int, s: int, padding: str) -> int:
    """TensorFlow's output length along one axis."""
    return math.ceil(n / s) if padding == "same" else math.ceil((n - k + 1) / s)


def pad_before(n: int, k: int, s: int, padding: str) -> int:
    """Zeros TensorFlow puts before the input along one axis."""
    if padding == "valid":
        return 0
    total = max((out_size(n, k, s, padding) - 1) * s + k - n, 0)
    return total // 2


def padded(x: np.ndarray, kernel_size, strides, padding: str) -> np.ndarray:
    """x [B, H, W, C] zero-padded so every receptive field lies inside it."""
    (kh, kw), (sh, sw) = as_pair(kernel_size), as_pair(strides)
    _, h, w, _ = x.shape
    oh, ow = out_size(h, kh, sh, padding), out_size(w, kw, sw, padding)
    top, left = pad_before(h, kh, sh, padding), pad_before(w, kw, sw, padding)
    bottom = max((oh - 1) * sh + kh - h - top, 0)
    right = max((ow - 1) * sw + kw - w - left, 0)
    return np.pad(x, [(0, 0), (top, bottom), (left, right), (0, 0)])


def locally_connected(x: np.ndarray, kernels: np.ndarray, strides, padding: str, bias=None) -> np.ndarray:
    """A different kernel at every output position, by loops.

    Args:
        x: [B, H, W, C].
        kernels: [out_h, out_w, kh, kw, C, F].
        bias: None, [F] or [out_h, out_w, F].

    Returns:
        [B, out_h, out_w, F] in float64.
    """
    oh, ow, kh, kw, _, f = kernels.shape
    sh, sw = as_pair(strides)
    xp = padded(x.astype("float64"), (kh, kw), (sh, sw), padding)
    out = np.zeros((x.shape[0], oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            out[:, i, j, :] = np.einsum("bhwc,hwcf->bf", patch, kernels[i, j].astype("float64"))
    if bias is not None:
        out = out + bias
    return out


def conv2d(x: np.ndarray, kernel: np.ndarray, strides=1, padding: str = "valid", bias=None) -> np.ndarray:
    """Cross-correlation with one shared kernel [kh, kw, C, F], by loops."""
    kh, kw = kernel.shape[:2]
    sh, sw = as_pair(strides)
    oh, ow = out_size(x.shape[1], kh, sh, padding), out_size(x.shape[2], kw, sw, padding)
    kernels = np.broadcast_to(kernel, (oh, ow) + kernel.shape)
    return locally_connected(x, kernels, strides, padding, bias)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
