"""Pictures of the kernels a layer applies at each output position.

They follow the original SISWS layer's summaries: the kernel at sampled output positions
(for SISWS the locally weighted kernel Σ_s S_s(i, j)·W_s), tiled into one image per output
filter; with colour coding each position is tinted by the colour of its dominant centroid.
Any layer with a ``position_kernels()`` method (every wsbench layer) or a Keras Conv2D can
be drawn.
"""

from __future__ import annotations

import math
from typing import Tuple

import keras
import numpy as np
from matplotlib.figure import Figure

from bench.visualize.centroids import (centroid_colors, centroid_handles, check_centroids, dominant_per_feature,
                                       n_centroids, numpy)


def _input_shape(layer) -> Tuple:
    """The batch input shape the layer was built on."""
    shapes = getattr(layer, "_build_shapes_dict", None)
    if shapes and len(shapes) == 1:
        return tuple(next(iter(shapes.values())))
    try:
        return tuple(layer.input.shape)
    except (AttributeError, ValueError) as exc:
        raise ValueError(
            f"layer {layer.name!r} has no known input shape: build it (or call it in a model) first."
        ) from exc


def output_hw(layer) -> Tuple[int, int]:
    """(out_h, out_w) of a built layer."""
    if getattr(layer, "out_hw", None) is not None:
        return tuple(int(v) for v in layer.out_hw)  # type: ignore[return-value]
    shape = layer.compute_output_shape(_input_shape(layer))
    return int(shape[1]), int(shape[2])


def position_kernels(layer) -> np.ndarray:
    """The kernel each output position applies, as [out_h, out_w, kh, kw, c_in, filters].

    A layer with a ``position_kernels()`` method reports its own (every wsbench layer has
    one; CoordConv's leaves out the weights on its coordinate channels, which act as a
    position-dependent bias). A Keras Conv2D shares one kernel, broadcast to every position.

    Raises:
        TypeError: for a layer that is neither.
        ValueError: for an unbuilt layer or a grouped convolution.
    """
    if hasattr(layer, "position_kernels"):
        if not layer.built:
            raise ValueError(f"layer {layer.name!r} is not built: build it (or call it in a model) first.")
        return numpy(layer.position_kernels())
    if not isinstance(layer, keras.layers.Conv2D):
        raise TypeError(
            f"position_kernels does not know {type(layer).__name__} {layer.name!r}: it accepts a Keras Conv2D "
            f"or a layer with a position_kernels() method (every wsbench layer has one)."
        )
    if getattr(layer, "groups", 1) != 1:
        raise ValueError(f"layer {layer.name!r} is a grouped convolution (groups={layer.groups}); not supported.")
    kernel = numpy(layer.kernel)
    oh, ow = output_hw(layer)
    return np.broadcast_to(kernel, (oh, ow) + kernel.shape).copy()


def sampled_positions(size: int, n_positions: int) -> np.ndarray:
    """``n_positions`` evenly spaced indices in [0, size), fewer when the axis is shorter."""
    if isinstance(n_positions, bool) or not isinstance(n_positions, (int, np.integer)) or n_positions < 1:
        raise ValueError(f"n_positions={n_positions!r} is not accepted: give a positive int.")
    return np.unique(np.round(np.linspace(0, size - 1, min(int(n_positions), size))).astype(int))


def kernel_grid_image(layer, n_positions: int = 4, color_coding: bool = False, filter_index=None) -> np.ndarray:
    """The kernels a layer applies at sampled output positions, tiled into one image per filter.

    Each tile is an ``r × c`` grid (``n_positions`` evenly spaced rows and columns of the
    output map, fewer if the map is smaller) of kh × kw kernels separated by 1-pixel black
    lines, so a tile is (r·(kh+1)+1) × (c·(kw+1)+1) pixels. Kernel values are scaled per filter
    so 0 is mid-grey and the filter's largest |weight| is black or white; kernels on 3 input
    channels are shown as RGB, on any other number as their mean over input channels.
    With ``color_coding`` (layers with centroids only) each kernel is tinted by the colour of
    its position's dominant centroid (:func:`centroid_colors`): bright = positive, dark = negative.

    Args:
        layer: a built spatial layer (see :func:`position_kernels`).
        n_positions: sampled positions per axis.
        color_coding: tint by dominant centroid.
        filter_index: return only this filter's tile.

    Returns:
        float32 [filters, H, W, 3] in [0, 1], or [H, W, 3] when ``filter_index`` is given.

    Raises:
        TypeError: colour coding on a layer without centroids.
        ValueError: a bad ``n_positions`` / ``filter_index``, or more than 12 centroids to colour.
    """
    kernels = position_kernels(layer)
    oh, ow, kh, kw, c_in, n_filters = kernels.shape
    if filter_index is not None and (isinstance(filter_index, bool) or not isinstance(filter_index, (int, np.integer))
                                     or not 0 <= filter_index < n_filters):
        raise ValueError(f"filter_index={filter_index!r} is not accepted: give an int in 0..{n_filters - 1}.")
    rows, cols = sampled_positions(oh, n_positions), sampled_positions(ow, n_positions)
    picked = kernels[rows][:, cols]  # [r, c, kh, kw, c_in, K]
    rgb_kernels = c_in == 3 and not color_coding
    values = picked if rgb_kernels else picked.mean(axis=4, keepdims=True)
    # One symmetric scale per filter keeps weight magnitudes comparable across positions.
    peak = np.abs(values).max(axis=(0, 1, 2, 3, 4), keepdims=True)
    values = 0.5 + 0.5 * values / np.where(peak > 0, peak, 1.0)
    values = np.broadcast_to(values, picked.shape[:4] + (3, n_filters))  # grey → 3 equal channels
    if color_coding:
        dominant = dominant_per_feature(layer)[rows][:, cols]  # [r, c, F]
        colors = np.asarray(centroid_colors(n_centroids(check_centroids(layer, "color_coding"))))
        tint = np.moveaxis(colors[dominant], -2, -1)  # [r, c, 3, F], F broadcasts over K
        values = values * tint[:, :, None, None]
    r, c = len(rows), len(cols)
    image = np.zeros((n_filters, r * (kh + 1) + 1, c * (kw + 1) + 1, 3), dtype="float32")
    for i in range(r):
        for j in range(c):
            y, x = 1 + i * (kh + 1), 1 + j * (kw + 1)
            image[:, y:y + kh, x:x + kw, :] = np.moveaxis(values[i, j], -1, 0)
    return image if filter_index is None else image[int(filter_index)]


def kernel_grid_figure(layer, n_positions: int = 4, color_coding: bool = False) -> Figure:
    """All filters' :func:`kernel_grid_image` tiles in one figure, with a centroid legend when
    colour coded.

    Raises:
        as :func:`kernel_grid_image`.
    """
    tiles = kernel_grid_image(layer, n_positions=n_positions, color_coding=color_coding)
    n_filters = tiles.shape[0]
    ncols = math.ceil(math.sqrt(n_filters))
    nrows = math.ceil(n_filters / ncols)
    # Constrained layout keeps the square panels and an "outside" legend next to each other.
    fig = Figure(figsize=(1.25 * ncols + (1.4 if color_coding else 0.0), 1.4 * nrows + 0.4), dpi=100,
                 layout="constrained")
    for k in range(nrows * ncols):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        ax.set_axis_off()
        if k < n_filters:
            ax.imshow(tiles[k], interpolation="nearest")
            ax.set_title(f"filter {k}", fontsize=7)
    oh, ow = output_hw(layer)
    r, c = len(sampled_positions(oh, n_positions)), len(sampled_positions(ow, n_positions))
    fig.suptitle(f"{layer.name}: kernels at {r}×{c} of {oh}×{ow} output positions", fontsize=9)
    if color_coding:
        n = n_centroids(check_centroids(layer, "color_coding"))
        fig.legend(handles=centroid_handles(centroid_colors(n), [f"centroid {s}" for s in range(n)]),
                   loc="outside right center", fontsize=7, frameon=False, title="dominant", title_fontsize=7)
    return fig
