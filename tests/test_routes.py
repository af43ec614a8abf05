"""Every route of every unshared layer equals the literal reference formulation.

The references (``bench/speed_references.py``) are what ``wsbench speed`` times the layers
against: one K·S (or K·rank) convolution, reshaped and weighted, or extract_patches plus an
einsum. Here they are first checked against numpy loops written from the definitions, then
every route (conv, mix, auto) is checked against them in outputs and in the gradients for
the input and every trainable weight, over VALID/SAME, strides 1 and 2, per_feature on/off.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from numpy.testing import assert_allclose

from bench.speed.references import locally_connected_reference, lrlc_reference, sisws_reference
from gradients import layer_outputs_and_gradients, reference_outputs_and_gradients
from layers import LocallyConnected2D, LowRankLocallyConnected2D, SISWS2D
from numpy_reference import locally_connected as np_locally_connected
from numpy_reference import softmax

pytestmark = pytest.mark.backends  # also run on JAX by `make test` (see conftest.py)

BATCH, INPUT, FILTERS, KERNEL = 2, (7, 6, 3), 4, (3, 2)
GEOMETRIES = [("valid", 1), ("same", 1), ("valid", 2), ("same", 2)]
ROUTES = ["conv", "mix", "auto"]
TOL = dict(rtol=1e-5, atol=1e-5)


def randomise(layer, rng, input_shape=INPUT):
    """Random values in every weight so no term can vanish (zero logits, zero biases, grid centroids)."""
    layer.build((None,) + input_shape)
    for weight in layer.weights:
        value = rng.normal(size=weight.shape)
        if weight.name == "bandwidth":
            value = np.asarray(weight) + 0.3 * value
        elif weight.name == "centroids":
            value = rng.uniform(0.0, 1.0, size=weight.shape)
        weight.assign(value.astype("float32"))
    return layer


def sisws_layer(rng, per_feature, trainable, **kwargs):
    # Fixed centroids need a random layout for per_feature to apply (a fixed grid ignores it).
    n_centroids = (2, 2) if trainable else 3
    return randomise(SISWS2D(FILTERS, KERNEL, n_centroids=n_centroids, centroids_trainable=trainable,
                             per_feature=per_feature, **kwargs), rng)


def assert_same(layer, reference, rng, input_shape=INPUT):
    # The layer runs on the active Keras backend, the reference always on TensorFlow.
    x = rng.normal(size=(BATCH,) + input_shape).astype("float32")
    out_shape = (BATCH,) + tuple(layer.compute_output_shape((None,) + input_shape)[1:])
    upstream = rng.normal(size=out_shape).astype("float32")
    got = layer_outputs_and_gradients(layer, x, upstream)
    want = reference_outputs_and_gradients(reference, layer, x, upstream)
    names = ["output", "d/dx"] + [f"d/d{w.name}" for w in layer.trainable_weights]
    assert len(got) == len(want) == len(names)
    for name, a, b in zip(names, got, want):
        assert_allclose(a, b, err_msg=name, **TOL)


# -- the references against numpy loops ------------------------------------------------------
def np_similarities(layer):
    """S_s(i, j) from the definition by loops: [oh, ow, F, S]."""
    oh, ow = layer.out_hw
    c, a = np.asarray(layer.centroids, "float64"), np.asarray(layer.bandwidth, "float64")
    ys, xs = np.linspace(0, layer.scale, oh), np.linspace(0, layer.scale, ow)
    sim = np.zeros((oh, ow) + c.shape[:2])
    for i in range(oh):
        for j in range(ow):
            for f in range(c.shape[0]):
                for s in range(c.shape[1]):
                    d = a[f, s] @ (c[f, s] - np.array([xs[j], ys[i]]))
                    sim[i, j, f, s] = np.exp(-d @ d)
    return sim / sim.sum(-1, keepdims=True) if layer.local_normalization else sim


@pytest.mark.parametrize("padding, strides", GEOMETRIES)
@pytest.mark.parametrize("per_feature", [False, True])
def test_sisws_reference_matches_loops(padding, strides, per_feature, rng):
    layer = sisws_layer(rng, per_feature, trainable=False, padding=padding, strides=strides)
    x = rng.normal(size=(BATCH,) + INPUT).astype("float32")
    sim = np_similarities(layer)
    oh, ow = layer.out_hw
    s = layer.n_kcp
    kernel = np.asarray(layer.kernel, "float64")
    bias = np.asarray(layer.bias, "float64")
    # Output (i, j, k) = Σ_s S_s·(W_s ∗ X + b_s): a locally connected layer with mixed kernels.
    sim_k = np.broadcast_to(sim, (oh, ow, FILTERS, s))
    kernels = np.einsum("hwcks,ijks->ijhwck", kernel.reshape(kernel.shape[:3] + (FILTERS, s)), sim_k)
    expected = np_locally_connected(x, kernels, strides, padding, bias=np.einsum("ks,ijks->ijk",
                                                                                  bias.reshape(FILTERS, s), sim_k))
    assert_allclose(sisws_reference(layer, tf.constant(x)).numpy(), expected, **TOL)


@pytest.mark.parametrize("padding, strides", GEOMETRIES)
@pytest.mark.parametrize("mixing", ["row_col", "position"])
def test_lrlc_reference_matches_loops(padding, strides, mixing, rng):
    layer = randomise(LowRankLocallyConnected2D(FILTERS, KERNEL, rank=3, mixing=mixing, padding=padding,
                                                strides=strides), rng)
    x = rng.normal(size=(BATCH,) + INPUT).astype("float32")
    if mixing == "row_col":
        logits = np.asarray(layer.row_logits) + np.asarray(layer.col_logits)
        bias = np.asarray(layer.row_bias) + np.asarray(layer.col_bias)
    else:
        logits, bias = np.asarray(layer.logits), np.asarray(layer.position_bias)
    alpha = softmax(logits.astype("float64"))  # [oh, ow, rank]
    kernel = np.asarray(layer.kernel, "float64")
    kernels = np.einsum("hwckr,ijr->ijhwck", kernel.reshape(kernel.shape[:3] + (FILTERS, 3)), alpha)
    expected = np_locally_connected(x, kernels, strides, padding, bias=bias)
    assert_allclose(lrlc_reference(layer, tf.constant(x)).numpy(), expected, **TOL)


@pytest.mark.parametrize("padding, strides", GEOMETRIES)
def test_locally_connected_reference_matches_loops(padding, strides, rng):
    layer = randomise(LocallyConnected2D(FILTERS, KERNEL, padding=padding, strides=strides), rng)
    x = rng.normal(size=(BATCH,) + INPUT).astype("float32")
    oh, ow = layer.out_hw
    kernels = np.asarray(layer.kernel).reshape((oh, ow) + KERNEL + (INPUT[2], FILTERS))
    expected = np_locally_connected(x, kernels, strides, padding, bias=np.asarray(layer.bias))
    assert_allclose(locally_connected_reference(layer, tf.constant(x)).numpy(), expected, **TOL)


# -- every route against its reference, outputs and gradients ---------------------------------
@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("padding, strides", GEOMETRIES)
@pytest.mark.parametrize("per_feature", [False, True])
@pytest.mark.parametrize("trainable", [False, True], ids=["sisws", "sisws_trainable"])
def test_sisws_routes_equal_reference(trainable, per_feature, padding, strides, route, rng):
    layer = sisws_layer(rng, per_feature, trainable, padding=padding, strides=strides, route=route)
    assert layer.per_feature == per_feature
    assert layer.get_config()["route_ran"] == layer.chosen_route()
    assert route == "auto" or layer.chosen_route() == route
    assert_same(layer, sisws_reference, rng)


@pytest.mark.parametrize("local_normalization", [True, False])
@pytest.mark.parametrize("route", ["conv", "mix"])
def test_sisws_routes_without_normalisation(route, local_normalization, rng):
    layer = sisws_layer(rng, True, True, padding="same", strides=2, route=route,
                        local_normalization=local_normalization)
    assert_same(layer, sisws_reference, rng)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("padding, strides", GEOMETRIES)
@pytest.mark.parametrize("mixing", ["row_col", "position"])
def test_lrlc_routes_equal_reference(mixing, padding, strides, route, rng):
    layer = randomise(LowRankLocallyConnected2D(FILTERS, KERNEL, rank=3, mixing=mixing, padding=padding,
                                                strides=strides, route=route), rng)
    assert layer.get_config()["route_ran"] == layer.chosen_route()
    assert route == "auto" or layer.chosen_route() == route
    assert_same(layer, lrlc_reference, rng)


@pytest.mark.parametrize("padding, strides", GEOMETRIES)
@pytest.mark.parametrize("c_in, filters", [(3, 16), (8, 5), (2, 5)], ids=["one-matmul", "per-offset", "per-row"])
def test_locally_connected_equals_reference(c_in, filters, padding, strides, rng):
    # The three (c_in, filters) pairs reach each of the product's grouping branches.
    input_shape = INPUT[:2] + (c_in,)
    layer = randomise(LocallyConnected2D(filters, KERNEL, padding=padding, strides=strides), rng, input_shape)
    assert_same(layer, locally_connected_reference, rng, input_shape)


@pytest.mark.parametrize("n, c_in, expected", [
    (1, 3, "conv"),   # one kernel: exactly a Conv2D
    (2, 3, "mix"), (4, 8, "mix"), (9, 8, "mix"),
    (2, 16, "conv"), (4, 16, "mix"),   # many input channels, few kernels: the convolution wins
    (4, 32, "conv"), (8, 32, "mix"), (4, 64, "conv"), (8, 64, "mix"),
])
def test_auto_route_follows_the_documented_rule(n, c_in, expected):
    shape = (None, 10, 10, c_in)
    sisws = SISWS2D(8, 3, n_centroids=n, route="auto")
    lrlc = LowRankLocallyConnected2D(8, 3, rank=n, route="auto")
    for layer in (sisws, lrlc):
        layer.build(shape)
        assert layer.chosen_route() == expected
        assert layer.get_config()["route_ran"] == expected


def test_auto_route_avoids_huge_position_kernels():
    # 128×128 outputs × 3·3·16 inputs × 256 filters = 576 Mi per-position kernel elements;
    # with 16 filters, 36 Mi (under the 64 Mi cap).
    layer = SISWS2D(256, 3, padding="same", n_centroids=9, route="auto")
    layer.build((None, 128, 128, 16))
    assert layer.chosen_route() == "conv"
    smaller = SISWS2D(16, 3, padding="same", n_centroids=9, route="auto")
    smaller.build((None, 128, 128, 16))
    assert smaller.chosen_route() == "mix"
