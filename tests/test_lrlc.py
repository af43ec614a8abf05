"""LRLC against a locally connected reference whose kernel at each position is the
softmax-weighted sum of the basis kernels (Elsayed et al., 2020), written with numpy."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradients import layer_outputs_and_gradients
from layers import LowRankLocallyConnected2D
from numpy_reference import conv2d, locally_connected, softmax

pytestmark = pytest.mark.backends  # also run on JAX by `make test` (see conftest.py)

INPUT = (7, 6, 2)
FILTERS = 3
KERNEL = (3, 2)


def lrlc_reference(x, layer, strides, padding):
    """Per-position kernels Σ_r α_r(i, j)·W_r, α = softmax over r of the logits; spatial bias.
    Basis kernel r of filter k is kernel channel k·rank + r (the layer's documented layout)."""
    rank = layer.rank
    basis = np.asarray(layer.kernel).reshape(KERNEL + (INPUT[2], FILTERS, rank))
    oh, ow = layer.out_hw
    if layer.mixing == "row_col":
        logits = np.asarray(layer.row_logits) + np.asarray(layer.col_logits)  # [oh, ow, rank]
        bias = np.asarray(layer.row_bias) + np.asarray(layer.col_bias)
    else:
        logits = np.asarray(layer.logits)
        bias = np.asarray(layer.position_bias)
    alpha = softmax(logits.astype("float64"), axis=-1)
    kernels = np.zeros((oh, ow) + KERNEL + (INPUT[2], FILTERS))
    for i in range(oh):
        for j in range(ow):
            for r in range(rank):
                kernels[i, j] += alpha[i, j, r] * basis[..., r]
    return locally_connected(x, kernels, strides, padding, bias)


def randomised(rng, **kwargs):
    """A built layer with every weight (kernel, logits, biases) random."""
    layer = LowRankLocallyConnected2D(FILTERS, KERNEL, **kwargs)
    layer.build((None,) + INPUT)
    for w in layer.weights:
        w.assign(rng.normal(size=w.shape).astype("float32"))
    return layer


@pytest.mark.parametrize("route", ["conv", "mix"])
@pytest.mark.parametrize("mixing", ["row_col", "position"])
@pytest.mark.parametrize("padding, strides", [("valid", 1), ("same", 2), ("same", 1)])
@pytest.mark.parametrize("rank", [2, 3])
def test_matches_softmax_weighted_locally_connected(rank, padding, strides, mixing, route, rng):
    layer = randomised(rng, rank=rank, mixing=mixing, padding=padding, strides=strides, route=route)
    assert layer.chosen_route() == route
    x = rng.normal(size=(2,) + INPUT).astype("float32")
    assert_allclose(np.asarray(layer(x)), lrlc_reference(x, layer, strides, padding), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mixing", ["row_col", "position"])
def test_position_kernels_are_the_mixed_kernels(mixing, rng):
    layer = randomised(rng, rank=3, mixing=mixing)
    basis = np.asarray(layer.kernel).reshape(KERNEL + (INPUT[2], FILTERS, 3))
    alpha = np.asarray(layer.combining_weights())
    pk = np.asarray(layer.position_kernels())
    i, j = 3, 1
    assert_allclose(pk[i, j], basis @ alpha[i, j], rtol=1e-5, atol=1e-6)
    assert_allclose(alpha.sum(axis=-1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("route", ["conv", "mix"])
@pytest.mark.parametrize("mixing", ["row_col", "position"])
@pytest.mark.parametrize("padding, strides", [("valid", 1), ("same", 2)])
def test_at_initialisation_is_conv_with_mean_kernel(mixing, route, padding, strides, rng):
    layer = LowRankLocallyConnected2D(FILTERS, KERNEL, rank=4, mixing=mixing, route=route,
                                      padding=padding, strides=strides)
    x = rng.normal(size=(2,) + INPUT).astype("float32")
    out = np.asarray(layer(x))  # builds with the layer's own initialisers
    mean_kernel = np.asarray(layer.kernel).reshape(KERNEL + (INPUT[2], FILTERS, 4)).mean(axis=-1)
    assert_allclose(out, conv2d(x, mean_kernel, strides, padding), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mixing", ["row_col", "position"])
def test_routes_have_same_gradients(mixing, rng):
    conv_route = randomised(rng, rank=3, mixing=mixing, padding="same", strides=2, route="conv")
    mix_route = LowRankLocallyConnected2D(FILTERS, KERNEL, rank=3, mixing=mixing, padding="same", strides=2,
                                          route="mix")
    mix_route.build((None,) + INPUT)
    mix_route.set_weights(conv_route.get_weights())
    x = rng.normal(size=(2,) + INPUT).astype("float32")
    upstream = rng.normal(size=(2, 4, 3, FILTERS)).astype("float32")
    grads = [layer_outputs_and_gradients(layer, x, upstream)[1:] for layer in (conv_route, mix_route)]
    for a, b in zip(*grads):
        assert np.abs(a).max() > 0
        assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_logits_are_learned(rng):
    """Mixing logits start at zero and move after one SGD step."""
    layer = LowRankLocallyConnected2D(FILTERS, KERNEL, rank=2)
    model = keras.Sequential([keras.Input(INPUT), layer, keras.layers.Flatten()])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse", run_eagerly=True)
    assert np.all(np.asarray(layer.row_logits) == 0)
    x = rng.normal(size=(4,) + INPUT).astype("float32")
    model.train_on_batch(x, rng.normal(size=(4, 5 * 5 * FILTERS)).astype("float32"))
    assert np.abs(np.asarray(layer.row_logits)).max() > 0
    assert np.abs(np.asarray(layer.col_logits)).max() > 0
