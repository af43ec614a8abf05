"""Pictures of what a spatial layer learned: locally weighted kernels and SISWS similarity maps.

Every function takes a *built* layer (standalone or inside a model) and reads its weights;
nothing here trains or changes a layer. Arrays returned as images are float32 RGB in [0, 1];
figures are plain ``matplotlib.figure.Figure`` objects drawn with the Agg canvas, so no
display and no global pyplot state are needed.

Kernel pictures follow the original SISWS layer's summaries: the locally weighted kernels
Σ_s S_s(i, j)·W_s at sampled output positions, tiled into one image per output filter; with
colour coding each position is tinted by the colour of the centroid that dominates there.
"""

from __future__ import annotations

import math
from typing import List, Sequence, Tuple

import keras
import numpy as np
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from layers.coordconv import CoordConv2D
from layers.sisws import SISWS2D

MAX_CENTROID_COLORS = 12
# Two colours from Paul Tol's colour-blind-safe schemes (teal, wine) extend seaborn's
# 10-colour 'colorblind' palette to the 12 the original layer allowed.
_EXTRA_COLORS = ((0x44 / 255, 0xAA / 255, 0x99 / 255), (0x88 / 255, 0x22 / 255, 0x55 / 255))

# seaborn's order puts orange and vermillion 1st and 3rd; with few centroids (2×2 is the
# default) pink and yellow are easier to tell from orange, so vermillion comes later.
_COLORBLIND_ORDER = (0, 1, 2, 4, 8, 9, 3, 5, 7, 6)

RGB = Tuple[float, float, float]


# -- reading layers ---------------------------------------------------------------------------
def _numpy(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


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


def _output_hw(layer) -> Tuple[int, int]:
    if getattr(layer, "out_hw", None) is not None:
        return tuple(int(v) for v in layer.out_hw)  # type: ignore[return-value]
    shape = layer.compute_output_shape(_input_shape(layer))
    return int(shape[1]), int(shape[2])


def _check_sisws(layer, what: str) -> SISWS2D:
    if not isinstance(layer, SISWS2D):
        raise TypeError(
            f"{what} needs a SISWS2D layer (families 'sisws', 'sisws_trainable'); "
            f"got {type(layer).__name__} {getattr(layer, 'name', '')!r}, which has no centroids."
        )
    if not layer.built:
        raise ValueError(f"layer {layer.name!r} is not built: build it (or call it in a model) first.")
    return layer


def position_kernels(layer) -> np.ndarray:
    """The kernel each output position applies, as [out_h, out_w, kh, kw, c_in, filters].

    Layers without hard sharing (SISWS2D, LocallyConnected2D, LowRankLocallyConnected2D, or any
    layer with a ``position_kernels()`` method) report their own per-position kernels. Conv2D
    and CoordConv2D share one kernel, which is broadcast to every position; for CoordConv2D
    only the weights on the real input channels are kept (the two coordinate channels act
    as a position-dependent bias, not as part of the image kernel).

    Raises:
        TypeError: for a layer that is none of these.
        ValueError: for an unbuilt layer or a grouped convolution.
    """
    if hasattr(layer, "position_kernels"):
        if not layer.built:
            raise ValueError(f"layer {layer.name!r} is not built: build it (or call it in a model) first.")
        return _numpy(layer.position_kernels())
    if isinstance(layer, CoordConv2D):
        kernel = _numpy(layer.conv.kernel)[:, :, :-2, :]
    elif isinstance(layer, keras.layers.Conv2D):
        if getattr(layer, "groups", 1) != 1:
            raise ValueError(f"layer {layer.name!r} is a grouped convolution (groups={layer.groups}); not supported.")
        kernel = _numpy(layer.kernel)
    else:
        raise TypeError(
            f"position_kernels does not know {type(layer).__name__} {layer.name!r}: it accepts Conv2D, "
            f"CoordConv2D, or layers with a position_kernels() method (SISWS2D, LocallyConnected2D, "
            f"LowRankLocallyConnected2D)."
        )
    oh, ow = _output_hw(layer)
    return np.broadcast_to(kernel, (oh, ow) + kernel.shape).copy()


def _similarities(layer) -> np.ndarray:
    """S_s(i, j) as [out_h, out_w, F, S]."""
    return _numpy(_check_sisws(layer, "a similarity map").similarity_map())


def _dominant_per_feature(layer) -> np.ndarray:
    """[out_h, out_w, F] index of the most similar centroid (F = filters if per_feature else 1)."""
    return np.argmax(_similarities(layer), axis=-1)


def dominant_centroid_map(layer) -> np.ndarray:
    """Index of the most similar centroid at every output cell, as an int [out_h, out_w] array.

    With per-feature centroids the map of feature 0 is returned.

    Raises:
        TypeError: if ``layer`` is not a SISWS2D layer.
    """
    return _dominant_per_feature(layer)[:, :, 0].astype(int)


def centroid_colors(n: int) -> List[RGB]:
    """``n`` distinct colour-blind-safe RGB colours (floats in [0, 1]), one per centroid.

    Seaborn's 'colorblind' palette (10 colours: blue, orange, green, pink, yellow, sky blue,
    vermillion, tan, grey, light pink) followed by Tol's teal and wine, so up to 12
    centroids can be told apart, as the original layer's colour coding allowed.

    Raises:
        ValueError: if ``n`` is not an int in 1..12.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_CENTROID_COLORS:
        raise ValueError(
            f"{n!r} centroids cannot be colour coded: colour coding supports 1 to {MAX_CENTROID_COLORS} centroids."
        )
    colorblind = sns.color_palette("colorblind", 10)
    palette = [tuple(float(v) for v in colorblind[i]) for i in _COLORBLIND_ORDER] + list(_EXTRA_COLORS)
    return palette[: int(n)]


# -- images ------------------------------------------------------------------------------------
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
    With ``color_coding`` (SISWS only) each kernel is tinted by the colour of its position's
    dominant centroid (:func:`centroid_colors`): bright = positive, dark = negative.

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
        dominant = _dominant_per_feature(layer)[rows][:, cols]  # [r, c, F]
        colors = np.asarray(centroid_colors(_check_sisws(layer, "color_coding").n_kcp))
        tint = np.moveaxis(colors[dominant], -2, -1)  # [r, c, 3, F], F broadcasts over K
        values = values * tint[:, :, None, None]
    r, c = len(rows), len(cols)
    image = np.zeros((n_filters, r * (kh + 1) + 1, c * (kw + 1) + 1, 3), dtype="float32")
    for i in range(r):
        for j in range(c):
            y, x = 1 + i * (kh + 1), 1 + j * (kw + 1)
            image[:, y:y + kh, x:x + kw, :] = np.moveaxis(values[i, j], -1, 0)
    return image if filter_index is None else image[int(filter_index)]


def enlarge(image: np.ndarray, min_side: int = 128) -> np.ndarray:
    """Nearest-neighbour upscaling by the smallest integer factor giving a side ≥ ``min_side``.

    Works on [H, W, C] or [N, H, W, C]; kernel pixels stay sharp squares.
    """
    h, w = image.shape[-3], image.shape[-2]
    factor = max(1, math.ceil(min_side / max(h, w)))
    return np.repeat(np.repeat(image, factor, axis=-3), factor, axis=-2)


def figure_to_image(fig: Figure) -> np.ndarray:
    """Renders a figure with the Agg canvas into a float32 [H, W, 3] RGB array in [0, 1]."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].astype("float32") / 255.0


def _centroid_handles(colors: Sequence[RGB], labels: Sequence[str]) -> List[Patch]:
    return [Patch(facecolor=col, edgecolor="black", linewidth=0.5, label=lab) for col, lab in zip(colors, labels)]


def legend_image(n_centroids: int) -> np.ndarray:
    """An image naming the centroid colours (“centroid 0” … ), float32 [H, W, 3] in [0, 1].

    Raises:
        ValueError: if ``n_centroids`` is not in 1..12.
    """
    colors = centroid_colors(n_centroids)
    fig = Figure(figsize=(2.0, 0.3 + 0.25 * n_centroids), dpi=100)
    fig.legend(handles=_centroid_handles(colors, [f"centroid {s}" for s in range(n_centroids)]),
               loc="center", frameon=False, title="dominant centroid")
    return figure_to_image(fig)


# -- figures -----------------------------------------------------------------------------------
def similarity_figure(layer) -> Figure:
    """The centroids of a SISWS layer drawn over its similarity map.

    Each output cell is coloured by its dominant centroid, paler where that centroid's share
    of the similarity is smaller (the title gives the range of that share); the centroids are
    drawn as numbered dots in their colours and named with their (x, y) in the legend.
    Axes are the layer's coordinates (0..scale; y grows downwards like image rows). With
    per-feature centroids, feature 0 is shown.

    Raises:
        TypeError: if ``layer`` is not a SISWS2D layer.
    """
    sim = _similarities(layer)[:, :, 0, :]  # [oh, ow, S]
    oh, ow, n = sim.shape
    scale = layer.scale
    centroids = _numpy(layer.centroids)[0]  # [S, 2] as (x, y)
    dominant = np.argmax(sim, axis=-1)
    strength = sim.max(axis=-1)
    spread = strength.max() - strength.min()
    weight = 0.35 + 0.65 * ((strength - strength.min()) / spread if spread > 0 else np.ones_like(strength))
    # Past 12 centroids the colours repeat; the numbers on the dots still tell them apart.
    palette = np.asarray([centroid_colors(MAX_CENTROID_COLORS)[s % MAX_CENTROID_COLORS] for s in range(n)])
    cells = 1.0 - weight[..., None] * (1.0 - palette[dominant])

    # Cell (i, j) is centred on (x_j, y_i) = (j, i)·scale/(size − 1).
    dx = scale / (ow - 1) if ow > 1 else scale
    dy = scale / (oh - 1) if oh > 1 else scale
    fig = Figure(figsize=(5.8, 4.2), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(cells, extent=(-dx / 2, (ow - 1) * dx + dx / 2, (oh - 1) * dy + dy / 2, -dy / 2),
              interpolation="nearest")
    ax.scatter(centroids[:, 0], centroids[:, 1], s=90, c=palette, edgecolors="black", linewidths=1.2, zorder=3)
    for s, (x, y) in enumerate(centroids):
        ax.annotate(str(s), (x, y), xytext=(6, 6), textcoords="offset points", fontsize=8, zorder=4)
    lo = min(-dx / 2, -dy / 2, float(centroids.min()) - 0.05 * scale)
    hi = max(scale + dx / 2, scale + dy / 2, float(centroids.max()) + 0.05 * scale)
    ax.set_xlim(lo, hi)
    ax.set_ylim(hi, lo)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    feature = f", feature 0 of {layer.filters}" if layer.per_feature else ""
    # The share says how soft the mixing is: near 1/S every cell blends all kernels almost equally.
    share = "share" if layer.local_normalization else "similarity"
    ax.set_title(f"{layer.name}: dominant centroid per output cell ({oh}×{ow}{feature})\n"
                 f"its {share} S_s(i, j): {strength.min():.2f} to {strength.max():.2f}", fontsize=9)
    labels = [f"centroid {s} ({x:.2f}, {y:.2f})" for s, (x, y) in enumerate(centroids)]
    ax.legend(handles=_centroid_handles(palette, labels), loc="upper left", bbox_to_anchor=(1.02, 1.0),
              fontsize=7, frameon=False, title="centroid (x, y)", title_fontsize=8)
    fig.tight_layout()
    return fig


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
    oh, ow = _output_hw(layer)
    r, c = len(sampled_positions(oh, n_positions)), len(sampled_positions(ow, n_positions))
    fig.suptitle(f"{layer.name}: kernels at {r}×{c} of {oh}×{ow} output positions", fontsize=9)
    if color_coding:
        n = _check_sisws(layer, "color_coding").n_kcp
        fig.legend(handles=_centroid_handles(centroid_colors(n), [f"centroid {s}" for s in range(n)]),
                   loc="outside right center", fontsize=7, frameon=False, title="dominant", title_fontsize=7)
    return fig
