"""Golden cross-correlations from the lecture notes, reproduced by every family configured
for hard sharing (see hard_sharing.py for what that means per family)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from hard_sharing import hard_shared_layer

pytestmark = pytest.mark.backends  # also run on JAX by `make test` (see conftest.py)

X1 = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]], "float32")
K1 = np.array([[0, 1], [2, 3]], "float32")
X2 = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], "float32")
K2 = np.array([[1, 2], [3, 4]], "float32")


def run(family_name, x_hwc, kernel, **kwargs):
    layer = hard_shared_layer(family_name, kernel, x_hwc.shape, **kwargs)
    return np.asarray(layer(x_hwc[None]))[0]


def test_single_channel(family_name):
    out = run(family_name, X1[..., None], K1[..., None, None])
    assert_allclose(out[..., 0], [[19, 25], [37, 43]], atol=1e-4)


def test_two_input_channels(family_name):
    x = np.stack([X1, X2], axis=-1)
    k = np.stack([K1, K2], axis=-1)[..., None]
    out = run(family_name, x, k)
    assert_allclose(out[..., 0], [[56, 72], [104, 120]], atol=1e-4)


def test_three_output_channels(family_name):
    x = np.stack([X1, X2], axis=-1)
    k = np.stack([K1, K2], axis=-1)
    kernel = np.stack([k, k + 1, k + 2], axis=-1)  # [2, 2, 2, 3]
    out = run(family_name, x, kernel)
    assert_allclose(out[..., 0], [[56, 72], [104, 120]], atol=1e-4)
    assert_allclose(out[..., 1], [[76, 100], [148, 172]], atol=1e-4)
    assert_allclose(out[..., 2], [[96, 128], [192, 224]], atol=1e-4)


def test_bias_is_added_per_filter(family_name):
    x = np.stack([X1, X2], axis=-1)
    k = np.stack([K1, K2], axis=-1)
    kernel = np.stack([k, k + 1], axis=-1)
    out = run(family_name, x, kernel, bias=[0.5, -2.0])
    assert_allclose(out[..., 0], np.array([[56, 72], [104, 120]]) + 0.5, atol=1e-4)
    assert_allclose(out[..., 1], np.array([[76, 100], [148, 172]]) - 2.0, atol=1e-4)


def test_edge_detection(family_name):
    image = np.ones((6, 8), "float32")
    image[:, 2:6] = 0
    out = run(family_name, image[..., None], np.array([[1, -1]], "float32")[..., None, None])[..., 0]
    expected = np.zeros((6, 7))
    expected[:, 1] = 1
    expected[:, 5] = -1
    assert_allclose(out, expected, atol=1e-5)


def test_1x1_convolution_is_matmul_over_channels(family_name, rng):
    x = rng.normal(size=(4, 5, 3)).astype("float32")
    w = rng.normal(size=(3, 4)).astype("float32")
    out = run(family_name, x, w[None, None])
    assert_allclose(out, x @ w, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("strides, padding", [(2, "same"), (1, "same"), (2, "valid")])
def test_strided_and_padded_match_reference(family_name, rng, strides, padding):
    """Even kernel on an even input: TensorFlow's SAME pads more after than before."""
    from numpy_reference import conv2d

    x = rng.normal(size=(8, 6, 2)).astype("float32")
    kernel = rng.normal(size=(2, 3, 2, 3)).astype("float32")
    bias = rng.normal(size=3).astype("float32")
    out = run(family_name, x, kernel, strides=strides, padding=padding, bias=bias)
    assert_allclose(out, conv2d(x[None], kernel, strides, padding, bias)[0], rtol=1e-5, atol=1e-5)
