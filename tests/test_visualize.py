"""Tests of bench.visualize: kernels per position, dominant centroids, tiled images, figures.

References are computed here from the raw weights with numpy (distances to centroids,
reshaped kernels), not from the functions under test.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from matplotlib.figure import Figure

import layers
from bench import visualize as viz
from layers import CoordConv2D, LocallyConnected2D, SISWS2D


def to_np(x) -> np.ndarray:
    return keras.ops.convert_to_numpy(x)


def built(layer, input_shape):
    layer.build((None,) + tuple(input_shape))
    return layer


def grid_sisws(grid, out_hw=(8, 8), scale=1.0, filters=3, kernel=3, c_in=1):
    return built(SISWS2D(filters, kernel, padding="same", n_centroids=grid, scale=scale), out_hw + (c_in,))


# -- dominant centroids -------------------------------------------------------------------------
@pytest.mark.parametrize("grid", [(2, 2), (3, 2), (3, 3), (1, 4)])
@pytest.mark.parametrize("out_hw,scale", [((8, 8), 1.0), ((9, 12), 2.0)])
def test_dominant_centroid_map_gives_each_grid_centroid_its_own_cell(grid, out_hw, scale):
    layer = grid_sisws(grid, out_hw, scale)
    dominant = viz.dominant_centroid_map(layer)
    assert dominant.shape == out_hw
    ys, xs = np.linspace(0, scale, out_hw[0]), np.linspace(0, scale, out_hw[1])
    centroids = to_np(layer.centroids)[0]  # (x, y)
    assert len(centroids) == grid[0] * grid[1]
    for s, (cx, cy) in enumerate(centroids):
        i, j = np.argmin(np.abs(ys - cy)), np.argmin(np.abs(xs - cx))
        assert dominant[i, j] == s, f"centroid {s} at ({cx:.2f}, {cy:.2f}) does not dominate its cell ({i}, {j})"
    # With equal bandwidths the dominant centroid is the nearest one (cells at a tie skipped).
    d2 = (xs[None, :, None] - centroids[:, 0]) ** 2 + (ys[:, None, None] - centroids[:, 1]) ** 2
    ordered = np.sort(d2, axis=-1)
    clear = (ordered[..., 1] - ordered[..., 0]) > 1e-6 if d2.shape[-1] > 1 else np.ones(out_hw, bool)
    np.testing.assert_array_equal(dominant[clear], np.argmin(d2, axis=-1)[clear])


def test_dominant_centroid_map_uses_feature_zero_when_per_feature():
    layer = built(SISWS2D(4, 3, padding="same", n_centroids=5, centroids_trainable=True, per_feature=True, seed=3),
                  (7, 7, 1))
    centroids = to_np(layer.centroids)  # [4, 5, 2]
    assert not np.allclose(centroids[0], centroids[1])
    ys = xs = np.linspace(0, 1, 7)
    d2 = (xs[None, :, None] - centroids[0, :, 0]) ** 2 + (ys[:, None, None] - centroids[0, :, 1]) ** 2
    np.testing.assert_array_equal(viz.dominant_centroid_map(layer), np.argmin(d2, axis=-1))


def test_centroid_functions_reject_layers_without_centroids():
    conv = built(keras.layers.Conv2D(2, 3), (6, 6, 1))
    with pytest.raises(TypeError, match="Conv2D"):
        viz.dominant_centroid_map(conv)
    with pytest.raises(TypeError, match="no centroids"):
        viz.similarity_figure(conv)
    with pytest.raises(TypeError, match="SISWS2D"):
        viz.kernel_grid_image(conv, color_coding=True)


# -- kernels per position -----------------------------------------------------------------------
def test_position_kernels_of_conv_is_the_broadcast_kernel(rng):
    conv = built(keras.layers.Conv2D(5, (3, 2), strides=2, padding="valid"), (9, 8, 2))
    kernels = viz.position_kernels(conv)
    kernel = to_np(conv.kernel)
    assert kernels.shape == (4, 4, 3, 2, 2, 5)  # ceil((9-3+1)/2), ceil((8-2+1)/2)
    for i in range(4):
        for j in range(4):
            np.testing.assert_array_equal(kernels[i, j], kernel)


def test_position_kernels_of_coordconv_drops_the_coordinate_channels(rng):
    layer = built(CoordConv2D(4, 3, padding="same"), (6, 5, 2))
    kernels = viz.position_kernels(layer)
    assert kernels.shape == (6, 5, 3, 3, 2, 4)
    np.testing.assert_array_equal(kernels[2, 3], to_np(layer.conv.kernel)[:, :, :2, :])


def test_position_kernels_of_sisws_is_the_similarity_weighted_sum(rng):
    layer = grid_sisws((2, 2), out_hw=(5, 6), filters=3, kernel=3, c_in=2)
    kernels = viz.position_kernels(layer)
    raw = to_np(layer.kernel).reshape(3, 3, 2, 3, 4)  # channel k·S + s
    ys, xs = np.linspace(0, 1, 5), np.linspace(0, 1, 6)
    c = to_np(layer.centroids)[0]
    sim = np.exp(-((xs[None, :, None] - c[:, 0]) ** 2 + (ys[:, None, None] - c[:, 1]) ** 2))  # A = 1·I
    sim /= sim.sum(-1, keepdims=True)
    expected = np.einsum("abcks,ijs->ijabck", raw, sim)
    np.testing.assert_allclose(kernels, expected, rtol=1e-5, atol=1e-6)


def test_position_kernels_rejects_other_layers():
    with pytest.raises(TypeError, match="Dense"):
        viz.position_kernels(built(keras.layers.Dense(3), (4,)))


# -- tiled images -------------------------------------------------------------------------------
@pytest.mark.parametrize("n_positions", [1, 3, 4])
def test_kernel_grid_image_shape_for_every_family(family, n_positions, rng):
    filters, k, hw = 3, 3, (8, 7)
    layer = built(family.build(filters, k, 1, "same"), hw + (1,))
    tiles = viz.kernel_grid_image(layer, n_positions=n_positions)
    r, c = min(n_positions, hw[0]), min(n_positions, hw[1])
    assert tiles.shape == (filters, r * (k + 1) + 1, c * (k + 1) + 1, 3)
    assert tiles.dtype == np.float32 and tiles.min() >= 0.0 and tiles.max() <= 1.0
    np.testing.assert_array_equal(tiles[:, 0, :, :], 0.0)  # black separator lines
    np.testing.assert_array_equal(tiles[:, :, k + 1, :], 0.0)
    np.testing.assert_array_equal(viz.kernel_grid_image(layer, n_positions=n_positions, filter_index=1), tiles[1])


def test_kernel_grid_image_pixels_are_the_scaled_position_kernels(rng):
    layer = built(LocallyConnected2D(2, 3, padding="valid"), (6, 6, 2))  # 4×4 output
    tiles = viz.kernel_grid_image(layer, n_positions=2)
    raw = to_np(layer.kernel).reshape(4, 4, 3, 3, 2, 2).mean(axis=4)  # mean over input channels
    rows = cols = [0, 3]
    for f in range(2):
        picked = raw[np.ix_(rows, cols)][..., f]
        peak = np.abs(picked).max()
        for a, i in enumerate(rows):
            for b, j in enumerate(cols):
                tile = tiles[f, 1 + a * 4:1 + a * 4 + 3, 1 + b * 4:1 + b * 4 + 3]
                expected = 0.5 + 0.5 * raw[i, j, :, :, f] / peak
                for ch in range(3):
                    np.testing.assert_allclose(tile[..., ch], expected, atol=1e-6)


def test_kernel_grid_image_shows_three_channel_kernels_in_colour(rng):
    conv = built(keras.layers.Conv2D(2, 3, padding="same"), (5, 5, 3))
    tile = viz.kernel_grid_image(conv, n_positions=1, filter_index=0)
    kernel = to_np(conv.kernel)[..., 0]
    np.testing.assert_allclose(tile[1:4, 1:4], 0.5 + 0.5 * kernel / np.abs(kernel).max(), atol=1e-6)


def test_colour_coding_tints_each_position_with_its_dominant_centroid(rng):
    layer = grid_sisws((2, 2), out_hw=(8, 8), filters=4, kernel=3)
    plain = viz.kernel_grid_image(layer, n_positions=4)
    coded = viz.kernel_grid_image(layer, n_positions=4, color_coding=True)
    assert coded.shape == plain.shape
    colors = np.asarray(viz.centroid_colors(4))
    dominant = viz.dominant_centroid_map(layer)
    positions = viz.sampled_positions(8, 4)
    for a, i in enumerate(positions):
        for b, j in enumerate(positions):
            block = np.s_[:, 1 + a * 4:1 + a * 4 + 3, 1 + b * 4:1 + b * 4 + 3]
            np.testing.assert_allclose(coded[block], plain[block][..., :1] * colors[dominant[i, j]], atol=1e-6)
    # The four quadrants of a 2×2 grid carry four different colours.
    corner_colours = {tuple(np.round(coded[0, 1 + a * 4:1 + a * 4 + 3, 1 + b * 4:1 + b * 4 + 3].sum((0, 1))
                                     / plain[0, 1 + a * 4:1 + a * 4 + 3, 1 + b * 4:1 + b * 4 + 3, 0].sum(), 4))
                      for a, b in [(0, 0), (0, 3), (3, 0), (3, 3)]}
    assert len(corner_colours) == 4


def test_colour_coding_refuses_more_than_twelve_centroids():
    layer = built(SISWS2D(2, 3, padding="same", n_centroids=13, seed=0), (6, 6, 1))
    with pytest.raises(ValueError, match="13"):
        viz.kernel_grid_image(layer, color_coding=True)


@pytest.mark.parametrize("bad", [0, -2, 2.5])
def test_kernel_grid_image_rejects_bad_arguments(bad):
    layer = grid_sisws((2, 2))
    with pytest.raises(ValueError, match="n_positions"):
        viz.kernel_grid_image(layer, n_positions=bad)
    with pytest.raises(ValueError, match="filter_index"):
        viz.kernel_grid_image(layer, filter_index=bad if bad != 0 else 3)


def test_enlarge_repeats_pixels_into_squares():
    image = np.arange(12, dtype="float32").reshape(2, 3, 2)
    big = viz.enlarge(image, min_side=7)  # factor ceil(7/3) = 3
    assert big.shape == (6, 9, 2)
    np.testing.assert_array_equal(big[::3, ::3], image)
    np.testing.assert_array_equal(big[2, 8], image[0, 2])


# -- colours, legend, figures -------------------------------------------------------------------
def test_centroid_colors_are_distinct_and_limited_to_twelve():
    colors = viz.centroid_colors(12)
    assert len(colors) == 12 and len(set(colors)) == 12
    assert all(len(c) == 3 and all(0.0 <= v <= 1.0 for v in c) for c in colors)
    assert viz.centroid_colors(3) == colors[:3]
    for bad in (0, 13, 2.0):
        with pytest.raises(ValueError, match=repr(bad)):
            viz.centroid_colors(bad)


def test_legend_image_shows_every_centroid_colour():
    image = viz.legend_image(5)
    assert image.ndim == 3 and image.shape[-1] == 3 and image.dtype == np.float32
    for color in viz.centroid_colors(5):
        assert (np.abs(image - np.asarray(color)).max(axis=-1) < 0.02).sum() > 20, color
    assert not (np.abs(image - np.asarray(viz.centroid_colors(6)[5])).max(axis=-1) < 0.02).any()


def test_similarity_figure_draws_the_centroids_on_the_output_grid():
    # Layer coordinates 0..scale map onto output cells 0..size-1: with scale 2 on a 9×9 map,
    # the 3×3 grid's first centroid at (0.5, 0.5) sits on cell (2, 2).
    layer = grid_sisws((3, 3), out_hw=(9, 9), scale=2.0)
    fig = viz.similarity_figure(layer, unit="image pixel")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "centroid 0 at (2.0, 2.0)" and len(labels) == 9
    assert ax.get_xlabel() == "column (image pixels)" and ax.get_ylabel().startswith("row (image pixels")
    x0, x1 = ax.get_xlim()
    assert x0 <= -0.5 and x1 >= 8.5
    drawn = ax.collections[0].get_offsets()
    np.testing.assert_allclose(drawn, to_np(layer.centroids)[0] / 2.0 * 8)
    image = viz.figure_to_image(fig)
    assert image.shape[-1] == 3 and image.shape[0] > 100


@pytest.mark.parametrize("normalised", [True, False])
def test_similarity_figure_says_mixing_weight_for_every_layer(normalised):
    layer = built(SISWS2D(3, 3, padding="same", n_centroids=(2, 2), local_normalization=normalised), (8, 8, 1))
    title = viz.similarity_figure(layer).axes[0].get_title()
    assert "mixing weight S_s(i, j)" in title and ("share" not in title and "similarity S" not in title)
    assert ("normalised: a cell's weights sum to 1" in title) == normalised


def test_similarity_figure_draws_the_feature_asked_for():
    layer = built(SISWS2D(4, 3, padding="same", n_centroids=3, per_feature=True, seed=1), (8, 8, 1))
    centroids = to_np(layer.centroids)  # [F, S, 2]: one set per feature
    for feature in (0, 3):
        fig = viz.similarity_figure(layer, feature=feature)
        np.testing.assert_allclose(fig.axes[0].collections[0].get_offsets(), centroids[feature] * 7)
        assert f"feature {feature} of 4" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match=r"feature=4 is not accepted.*0\.\.3"):
        viz.similarity_figure(layer, feature=4)


def test_centroid_colours_are_not_the_family_palette():
    from bench.report.style import family_styles

    families = {tuple(round(v, 3) for v in color) for color, _ in family_styles(layers.list_families()).values()}
    assert not families & {tuple(round(v, 3) for v in c) for c in viz.centroid_colors(viz.MAX_CENTROID_COLORS)}


def test_kernel_grid_figure_has_one_panel_per_filter_and_a_legend_when_coded():
    layer = grid_sisws((2, 2), filters=5)
    fig = viz.kernel_grid_figure(layer, n_positions=3, color_coding=True)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 5
    np.testing.assert_array_equal(panels[2].images[0].get_array(),
                                  viz.kernel_grid_image(layer, 3, color_coding=True, filter_index=2))
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [f"centroid {s}" for s in range(4)]
    assert not viz.kernel_grid_figure(layer).legends


def test_kernel_grid_works_for_every_registered_family_in_a_model(family_name, rng):
    inputs = keras.Input((8, 8, 1))
    outputs = layers.get_family(family_name).build(2, 3, 1, "same", name="spatial")(inputs)
    model = keras.Model(inputs, outputs)
    tiles = viz.kernel_grid_image(model.get_layer("spatial"), n_positions=2)
    assert tiles.shape == (2, 9, 9, 3)


def test_colour_coding_limit_of_the_train_flag_is_the_palette_size():
    from layers.sisws import MAX_COLOR_CENTROIDS

    assert MAX_COLOR_CENTROIDS == viz.MAX_CENTROID_COLORS == len(viz.centroid_colors(viz.MAX_CENTROID_COLORS))
