"""``locally_connected`` against tf_keras.layers.LocallyConnected2D with the same weights.

tf_keras implementation 1 keeps the kernel as (out_h·out_w, kh·kw·c_in, filters), our layout,
but accepts only VALID. Implementation 2 (needed for SAME) keeps a dense, masked kernel
(H, W, c_in, out_h, out_w, filters). Its SAME window starts at out·stride − k//2, whereas
TensorFlow's SAME (which our layer and Conv2D follow) starts at out·stride − total_pad//2;
the two agree only when those offsets coincide, so SAME cases are chosen where they do
(``test_same_cases_are_comparable`` guards that) and the other cases are checked against
keras.layers.Conv2D with the kernel copied to every position.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tf_keras
from numpy.testing import assert_allclose

from layers import LocallyConnected2D
from numpy_reference import as_pair, out_size, pad_before

pytestmark = pytest.mark.backends  # also run on JAX by `make test` (see conftest.py)

# (H, W, C), kernel, strides, filters
VALID_CASES = [
    ((6, 7, 2), 3, 1, 3),
    ((9, 8, 3), (2, 3), (2, 1), 4),
    ((10, 10, 1), 4, 3, 2),
    ((5, 5, 2), 5, 1, 3),
    ((7, 6, 2), 1, 2, 2),
]
SAME_CASES = [
    ((7, 7, 2), 3, 1, 3),
    ((9, 6, 3), (3, 1), (2, 1), 2),
    ((8, 8, 1), 5, 1, 4),
    ((5, 7, 2), 3, 2, 3),
    ((7, 9, 2), (5, 3), (3, 2), 2),
]
# SAME cases where tf_keras's centred window differs from TensorFlow's padding.
SAME_DIVERGENT_CASES = [
    ((8, 8, 2), 2, 1, 3),
    ((8, 6, 1), 3, 2, 2),
]


def tf_keras_agrees(shape, kernel, strides) -> bool:
    return all(
        pad_before(n, k, s, "same") == k // 2
        for n, k, s in zip(shape[:2], as_pair(kernel), as_pair(strides))
    )


def random_ours(shape, kernel, strides, padding, filters, rng):
    layer = LocallyConnected2D(filters, kernel, strides=strides, padding=padding)
    layer.build((None,) + shape)
    layer.kernel.assign(rng.normal(size=layer.kernel.shape).astype("float32"))
    layer.bias.assign(rng.normal(size=layer.bias.shape).astype("float32"))
    return layer


def implementation_2_kernel(ours: LocallyConnected2D, shape) -> np.ndarray:
    """Our (P, kh·kw·C, F) kernel spread into tf_keras's (H, W, C, oh, ow, F) layout."""
    h, w, c = shape
    (kh, kw), (sh, sw) = ours.kernel_size, ours.strides
    oh, ow = ours.out_hw
    top, left = pad_before(h, kh, sh, ours.padding), pad_before(w, kw, sw, ours.padding)
    per_position = np.asarray(ours.kernel).reshape(oh, ow, kh, kw, c, -1)
    dense = np.zeros((h, w, c, oh, ow, per_position.shape[-1]), "float32")
    for i in range(oh):
        for j in range(ow):
            for di in range(kh):
                for dj in range(kw):
                    r, q = i * sh - top + di, j * sw - left + dj
                    if 0 <= r < h and 0 <= q < w:  # taps on padding zeros have no weight
                        dense[r, q, :, i, j, :] = per_position[i, j, di, dj]
    return dense


def reference_layer(ours, shape, implementation):
    ref = tf_keras.layers.LocallyConnected2D(
        ours.filters, ours.kernel_size, strides=ours.strides, padding=ours.padding, implementation=implementation
    )
    ref.build((None,) + shape)
    kernel = np.asarray(ours.kernel) if implementation == 1 else implementation_2_kernel(ours, shape)
    ref.set_weights([kernel, np.asarray(ours.bias)])
    return ref


@pytest.mark.parametrize("implementation", [1, 2])
@pytest.mark.parametrize("shape, kernel, strides, filters", VALID_CASES, ids=str)
def test_valid_matches_tf_keras(shape, kernel, strides, filters, implementation, rng):
    ours = random_ours(shape, kernel, strides, "valid", filters, rng)
    ref = reference_layer(ours, shape, implementation)
    x = rng.normal(size=(3,) + shape).astype("float32")
    assert_allclose(np.asarray(ours(x)), ref(x).numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape, kernel, strides, filters", SAME_CASES, ids=str)
def test_same_matches_tf_keras_implementation_2(shape, kernel, strides, filters, rng):
    ours = random_ours(shape, kernel, strides, "same", filters, rng)
    ref = reference_layer(ours, shape, 2)
    x = rng.normal(size=(3,) + shape).astype("float32")
    assert_allclose(np.asarray(ours(x)), ref(x).numpy(), rtol=1e-5, atol=1e-5)


def test_same_cases_are_comparable():
    assert all(tf_keras_agrees(s, k, st) for s, k, st, _ in SAME_CASES)
    assert not any(tf_keras_agrees(s, k, st) for s, k, st, _ in SAME_DIVERGENT_CASES)


@pytest.mark.parametrize("shape, kernel, strides, filters", SAME_DIVERGENT_CASES + SAME_CASES, ids=str)
def test_same_with_copied_kernel_matches_keras_conv2d(shape, kernel, strides, filters, rng):
    conv = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same")
    conv.build((None,) + shape)
    k = rng.normal(size=conv.kernel.shape).astype("float32")
    b = rng.normal(size=filters).astype("float32")
    conv.set_weights([k, b])

    ours = LocallyConnected2D(filters, kernel, strides=strides, padding="same")
    ours.build((None,) + shape)
    oh, ow = (out_size(n, kk, s, "same") for n, kk, s in zip(shape[:2], as_pair(kernel), as_pair(strides)))
    assert ours.out_hw == (oh, ow)
    ours.kernel.assign(np.tile(k.reshape(1, -1, filters), (oh * ow, 1, 1)))
    ours.bias.assign(np.broadcast_to(b, (oh, ow, filters)))

    x = rng.normal(size=(2,) + shape).astype("float32")
    assert_allclose(np.asarray(ours(x)), np.asarray(conv(x)), rtol=1e-5, atol=1e-5)


def test_position_kernels_layout(rng):
    """position_kernels()[i, j] is the (kh, kw, C, F) kernel applied at output (i, j)."""
    shape = (6, 5, 2)
    ours = random_ours(shape, (3, 2), 1, "valid", 2, rng)
    x = rng.normal(size=(1,) + shape).astype("float32")
    pk = np.asarray(ours.position_kernels())
    out = np.asarray(ours(x))
    i, j = 2, 3
    manual = np.einsum("hwc,hwcf->f", x[0, i : i + 3, j : j + 2], pk[i, j]) + np.asarray(ours.bias)[i, j]
    assert pk.shape == (4, 4, 3, 2, 2, 2)
    assert_allclose(out[0, i, j], manual, rtol=1e-5, atol=1e-5)
