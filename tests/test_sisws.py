"""SISWS against Conv2D (one centroid) and a naive reference written from the SISWS definition.

Storage conventions the reference reads (the layer's, documented in layers/sisws.py): channel
k·S + s of the kernel and bias is kernel–centroid pair s of filter k; a centroid is stored as
(x, y) and A_s multiplies the (x, y) difference vector.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradients import layer_outputs_and_gradients
from layers import SISWS2D
from numpy_reference import conv2d

pytestmark = pytest.mark.backends  # also run on JAX by `make test` (see conftest.py)

INPUT = (7, 6, 2)
FILTERS = 3


def sisws_reference(x, kernel, bias, centroids, bandwidth, strides, padding, scale, local_normalization):
    """The SISWS definition, literally: S separate convolutions, exp similarity, optional
    normalisation, weighted sum. ``centroids`` [F, S, 2] as (x, y); ``bandwidth`` [F, S, 2, 2]."""
    n_features, n_kcp = centroids.shape[:2]
    convs = [conv2d(x, kernel[..., s::n_kcp], strides, padding, bias[s::n_kcp]) for s in range(n_kcp)]
    _, oh, ow, k = convs[0].shape
    ys, xs = np.linspace(0, scale, oh), np.linspace(0, scale, ow)
    out = np.zeros_like(convs[0])
    for i in range(oh):
        for j in range(ow):
            p = np.array([xs[j], ys[i]])
            for f in range(k):
                fi = f if n_features > 1 else 0
                sims = []
                for s in range(n_kcp):
                    a = bandwidth[fi, s] @ (centroids[fi, s] - p)
                    sims.append(np.exp(-np.sum(a**2)))
                total = sum(sims)
                for s in range(n_kcp):
                    weight = sims[s] / total if local_normalization else sims[s]
                    out[:, i, j, f] += weight * convs[s][:, i, j, f]
    return out


def build(rng, **kwargs):
    layer = SISWS2D(FILTERS, kwargs.pop("kernel_size", (3, 2)), **kwargs)
    layer.build((None,) + INPUT)
    layer.kernel.assign(rng.normal(size=layer.kernel.shape).astype("float32"))
    if layer.use_bias:
        layer.bias.assign(rng.normal(size=layer.bias.shape).astype("float32"))
    return layer


def weights_of(layer):
    bias = np.asarray(layer.bias) if layer.use_bias else np.zeros(layer.kernel.shape[-1])
    return np.asarray(layer.kernel), bias, np.asarray(layer.centroids), np.asarray(layer.bandwidth)


GEOMETRIES = [("valid", 1, 1.0), ("same", 2, 2.0)]


@pytest.mark.parametrize("route", ["conv", "mix"])
@pytest.mark.parametrize("padding, strides", [("valid", 1), ("same", 1), ("valid", 2), ("same", 2)])
def test_one_centroid_equals_conv2d(route, padding, strides, rng):
    layer = build(rng, n_centroids=1, strides=strides, padding=padding, route=route, seed=3)
    conv = keras.layers.Conv2D(FILTERS, (3, 2), strides=strides, padding=padding)
    conv.build((None,) + INPUT)
    conv.set_weights([np.asarray(layer.kernel), np.asarray(layer.bias)])
    x = rng.normal(size=(2,) + INPUT).astype("float32")
    assert_allclose(np.asarray(layer(x)), np.asarray(conv(x)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("route", ["conv", "mix"])
@pytest.mark.parametrize("padding, strides, scale", GEOMETRIES)
@pytest.mark.parametrize("local_normalization", [True, False])
@pytest.mark.parametrize("per_feature", [False, True])
@pytest.mark.parametrize("n_centroids", [(2, 2), 3], ids=["grid2x2", "random3"])
def test_matches_naive_reference(n_centroids, per_feature, local_normalization, padding, strides, scale, route, rng):
    # Trainable centroids so per_feature also applies to the grid (a fixed grid ignores it).
    layer = build(rng, n_centroids=n_centroids, per_feature=per_feature, local_normalization=local_normalization,
                  strides=strides, padding=padding, scale=scale, route=route, centroids_trainable=True, seed=7)
    assert layer.chosen_route() == route
    # Centroids stay as initialised; A_s gets off-diagonal terms so its orientation matters.
    noise = rng.normal(scale=0.3 * scale, size=layer.bandwidth.shape).astype("float32")
    layer.bandwidth.assign(np.asarray(layer.bandwidth) + noise)
    x = rng.normal(size=(2,) + INPUT).astype("float32")

    expected = sisws_reference(x, *weights_of(layer), strides, padding, scale, local_normalization)

    assert_allclose(np.asarray(layer(x)), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("per_feature", [False, True])
def test_routes_have_same_gradients(per_feature, rng):
    conv_route = build(rng, n_centroids=(2, 2), per_feature=per_feature, centroids_trainable=True,
                       padding="same", strides=2, route="conv")
    mix_route = SISWS2D(FILTERS, (3, 2), n_centroids=(2, 2), per_feature=per_feature, centroids_trainable=True,
                        padding="same", strides=2, route="mix")
    mix_route.build((None,) + INPUT)
    mix_route.set_weights(conv_route.get_weights())
    x = rng.normal(size=(2,) + INPUT).astype("float32")
    upstream = rng.normal(size=(2, 4, 3, FILTERS)).astype("float32")

    grads = [layer_outputs_and_gradients(layer, x, upstream)[1:] for layer in (conv_route, mix_route)]

    assert len(grads[0]) == 1 + 4  # input, kernel, bias, centroids, bandwidth
    for a, b in zip(*grads):
        assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_position_kernels_are_similarity_weighted_kernels(rng):
    layer = build(rng, n_centroids=3, seed=2)
    sim = np.asarray(layer.similarity_map())  # [oh, ow, 1, S]
    kernel = np.asarray(layer.kernel)  # channel k·S + s
    pk = np.asarray(layer.position_kernels())
    i, j = 4, 2
    expected = sum(sim[i, j, 0, s] * kernel[..., s::3] for s in range(3))
    assert pk.shape == (5, 5, 3, 2, INPUT[2], FILTERS)
    assert_allclose(pk[i, j], expected, rtol=1e-5, atol=1e-6)


def test_auto_route_matches_conv_route(rng):
    auto = build(rng, n_centroids=4, route="auto", seed=1)
    conv_route = SISWS2D(FILTERS, (3, 2), n_centroids=4, route="conv")
    conv_route.build((None,) + INPUT)
    conv_route.set_weights(auto.get_weights())
    x = rng.normal(size=(2,) + INPUT).astype("float32")
    assert auto.chosen_route() in ("conv", "mix")
    assert_allclose(np.asarray(auto(x)), np.asarray(conv_route(x)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("rows, cols, scale", [(2, 2, 1.0), (1, 3, 1.0), (3, 2, 3.0), (4, 1, 0.5)])
def test_grid_initialisation_positions(rows, cols, scale):
    layer = SISWS2D(2, 3, n_centroids=(rows, cols), scale=scale)
    layer.build((None, 8, 8, 1))
    xs = np.linspace(scale / (cols + 1), scale - scale / (cols + 1), cols)
    ys = np.linspace(scale / (rows + 1), scale - scale / (rows + 1), rows)
    expected = np.array([(x, y) for y in ys for x in xs])  # row-major over (row, col)

    centroids = np.asarray(layer.centroids)

    assert centroids.shape == (1, rows * cols, 2)
    assert_allclose(centroids[0], expected, atol=1e-6)
    assert_allclose(np.asarray(layer.bandwidth), np.broadcast_to(scale * np.eye(2), (1, rows * cols, 2, 2)))


def test_random_initialisation_is_seeded_and_in_range():
    def centroids(seed, per_feature=False):
        layer = SISWS2D(3, 3, n_centroids=5, scale=2.0, seed=seed, per_feature=per_feature)
        layer.build((None, 8, 8, 1))
        return np.asarray(layer.centroids)

    a = centroids(11, per_feature=True)
    assert a.shape == (3, 5, 2)
    assert a.min() >= 0.0 and a.max() <= 2.0
    assert len(np.unique(a.round(6))) > 20  # spread, not a constant
    assert_allclose(a, centroids(11, per_feature=True))
    assert not np.allclose(centroids(11), centroids(12))


def test_centroid_coordinates_are_x_then_y():
    """A centroid at (x=scale, y=0) is most similar to the top-right output cell."""
    layer = SISWS2D(1, 3, n_centroids=1, local_normalization=False, scale=1.0)
    layer.build((None, 7, 9, 1))  # 5×7 output
    layer.centroids.assign([[[1.0, 0.0]]])
    sim = np.asarray(layer.similarity_map())[..., 0, 0]
    assert np.unravel_index(np.argmax(sim), sim.shape) == (0, 6)
    assert sim[0, 6] == pytest.approx(1.0)
    assert sim[4, 0] == pytest.approx(np.exp(-2.0), rel=1e-5)


def test_fixed_grid_ignores_per_feature_but_trainable_grid_honours_it():
    fixed = SISWS2D(4, 3, n_centroids=(2, 2), per_feature=True)
    fixed.build((None, 6, 6, 1))
    learned = SISWS2D(4, 3, n_centroids=(2, 2), per_feature=True, centroids_trainable=True)
    learned.build((None, 6, 6, 1))
    assert fixed.per_feature is False and fixed.centroids.shape == (1, 4, 2)
    assert learned.per_feature is True and learned.centroids.shape == (4, 4, 2)


@pytest.mark.parametrize("per_feature", [False, True])
@pytest.mark.parametrize("n_centroids", [(2, 2), 3], ids=["grid", "random"])
def test_trainable_centroids_and_bandwidths_get_gradients(n_centroids, per_feature, rng):
    layer = build(rng, n_centroids=n_centroids, per_feature=per_feature, centroids_trainable=True, seed=5)
    assert layer.centroids.trainable and layer.bandwidth.trainable
    assert any(w is layer.centroids for w in layer.trainable_weights)
    assert any(w is layer.bandwidth for w in layer.trainable_weights)
    x = rng.normal(size=(2,) + INPUT).astype("float32")
    target = rng.normal(size=(2, 5, 5, FILTERS)).astype("float32")
    # The gradient of mean((y - target)²) is that of Σ y·upstream with upstream = 2(y - target)/n.
    y = np.asarray(layer(x))
    grads = layer_outputs_and_gradients(layer, x, 2 * (y - target) / y.size)[2:]
    g_centroids, g_bandwidth = (grads[i] for i, w in enumerate(layer.trainable_weights)
                                if w is layer.centroids or w is layer.bandwidth)
    # Every centroid and every bandwidth matrix is pulled somewhere.
    assert np.all(np.abs(g_centroids).sum(axis=-1) > 0)
    assert np.all(np.abs(g_bandwidth).sum(axis=(-2, -1)) > 0)


@pytest.mark.parametrize("n_centroids", [(2, 2), 3], ids=["grid", "random"])
def test_fixed_centroids_are_not_trained(n_centroids, rng):
    layer = SISWS2D(FILTERS, 3, n_centroids=n_centroids, seed=9)
    model = keras.Sequential([keras.Input(INPUT), layer, keras.layers.Flatten()])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", run_eagerly=True)
    before = {name: np.asarray(getattr(layer, name)).copy() for name in ("centroids", "bandwidth", "kernel")}

    assert all(w is not layer.centroids and w is not layer.bandwidth for w in layer.trainable_weights)
    assert {id(w) for w in layer.non_trainable_weights} == {id(layer.centroids), id(layer.bandwidth)}
    x = rng.normal(size=(4,) + INPUT).astype("float32")
    y = rng.normal(size=(4, 5 * 4 * FILTERS)).astype("float32")
    model.train_on_batch(x, y)

    assert_allclose(np.asarray(layer.centroids), before["centroids"])
    assert_allclose(np.asarray(layer.bandwidth), before["bandwidth"])
    assert not np.allclose(np.asarray(layer.kernel), before["kernel"])


def test_sigma_trainable_alone():
    layer = SISWS2D(2, 3, n_centroids=3, sigma_trainable=True)
    layer.build((None, 6, 6, 1))
    trainable = {id(w) for w in layer.trainable_weights}
    assert id(layer.bandwidth) in trainable and id(layer.centroids) not in trainable


def test_sigma_trainable_defaults_to_centroids_trainable():
    layer = SISWS2D(2, 3, n_centroids=3, centroids_trainable=True)
    assert layer.sigma_trainable is True
    assert SISWS2D(2, 3, n_centroids=3).sigma_trainable is False
