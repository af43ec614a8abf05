"""Pictures of a layer's centroids: dominant centroid per cell, colours, legend, similarity map.

They read any layer with centroids, i.e. one exposing ``similarity_map()`` (S_s(i, j) as
[out_h, out_w, F, S], F = filters with per-feature centroids, else 1), ``centroids``
([F, S, 2] as (x, y)), ``scale``, ``per_feature``, ``local_normalization`` and ``filters``;
the SISWS layer does. Which families have such layers the registry says (their pictures
include 'similarity'), so nothing here names a layer class.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import keras
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from bench.visualize.images import figure_to_image

MAX_CENTROID_COLORS = 12
# Paul Tol's colour-blind-safe 'muted' scheme (9 colours, in his order), then pale grey and
# two colours of his 'light' scheme (orange, pear) for the 12 the original layer allowed.
# Deliberately not the report's family palette (seaborn 'colorblind'): in a picture of one
# family's layer a colour means a centroid, never another family.
_CENTROID_PALETTE = ("#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933",
                     "#AA4499", "#DDDDDD", "#EE8866", "#BBCC33")

RGB = Tuple[float, float, float]


def numpy(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def has_centroids(layer) -> bool:
    """Whether ``layer`` exposes centroids and their similarity map (see the module doc)."""
    return callable(getattr(layer, "similarity_map", None)) and getattr(layer, "centroids", None) is not None


def n_centroids(layer) -> int:
    """S, the number of centroids of a layer with centroids."""
    return int(layer.centroids.shape[1])


def _centroid_layers_text() -> str:
    """'<layer class>: families <names>' for the families that draw similarity maps."""
    import layers

    kinds: dict = {}
    for name in layers.list_families():
        family = layers.get_family(name)
        if "similarity" in family.pictures:
            kind = family.layer_type.__name__ if family.layer_type is not None else "layers"
            kinds.setdefault(kind, []).append(repr(name))
    return "; ".join(f"{kind}: families {', '.join(names)}" for kind, names in kinds.items()) or "none registered"


def check_centroids(layer, what: str):
    """Returns ``layer`` if it is a built layer with centroids.

    Raises:
        TypeError: naming the layer and the layer classes and families that have centroids.
        ValueError: the layer is not built.
    """
    if not has_centroids(layer):
        raise TypeError(
            f"{what} needs a layer with centroids ({_centroid_layers_text()}); "
            f"got {type(layer).__name__} {getattr(layer, 'name', '')!r}, which has no centroids."
        )
    if not layer.built:
        raise ValueError(f"layer {layer.name!r} is not built: build it (or call it in a model) first.")
    return layer


def similarities(layer) -> np.ndarray:
    """S_s(i, j) as [out_h, out_w, F, S]."""
    return numpy(check_centroids(layer, "a similarity map").similarity_map())


def dominant_per_feature(layer) -> np.ndarray:
    """[out_h, out_w, F] index of the most similar centroid (F = filters if per_feature else 1)."""
    return np.argmax(similarities(layer), axis=-1)


def dominant_centroid_map(layer) -> np.ndarray:
    """Index of the most similar centroid at every output cell, as an int [out_h, out_w] array.

    With per-feature centroids the map of feature 0 is returned.

    Raises:
        TypeError: if ``layer`` has no centroids.
    """
    return dominant_per_feature(layer)[:, :, 0].astype(int)


def centroid_colors(n: int) -> List[RGB]:
    """``n`` distinct colour-blind-safe RGB colours (floats in [0, 1]), one per centroid.

    Paul Tol's 'muted' scheme (rose, indigo, sand, green, cyan, wine, teal, olive, purple),
    then pale grey, orange and pear, so up to 12 centroids can be told apart, as the
    original layer's colour coding allowed. None of them is a family's colour in the report.

    Raises:
        ValueError: if ``n`` is not an int in 1..12.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_CENTROID_COLORS:
        raise ValueError(
            f"{n!r} centroids cannot be colour coded: colour coding supports 1 to {MAX_CENTROID_COLORS} centroids."
        )
    return [tuple(float(v) for v in to_rgb(color)) for color in _CENTROID_PALETTE[: int(n)]]


def centroid_handles(colors: Sequence[RGB], labels: Sequence[str]) -> List[Patch]:
    """Legend entries: one coloured square per centroid."""
    return [Patch(facecolor=col, edgecolor="black", linewidth=0.5, label=lab) for col, lab in zip(colors, labels)]


def legend_image(n_centroids: int) -> np.ndarray:
    """An image naming the centroid colours (“centroid 0” … ), float32 [H, W, 3] in [0, 1].

    Raises:
        ValueError: if ``n_centroids`` is not in 1..12.
    """
    colors = centroid_colors(n_centroids)
    fig = Figure(figsize=(2.0, 0.3 + 0.25 * n_centroids), dpi=100)
    fig.legend(handles=centroid_handles(colors, [f"centroid {s}" for s in range(n_centroids)]),
               loc="center", frameon=False, title="dominant centroid")
    return figure_to_image(fig)


def check_feature(layer, feature) -> int:
    """``feature`` if it is an output channel of ``layer`` (0 … filters − 1).

    Raises:
        ValueError: naming the value and the layer's range.
    """
    filters = int(layer.filters)
    if isinstance(feature, bool) or not isinstance(feature, (int, np.integer)) or not 0 <= feature < filters:
        raise ValueError(f"feature={feature!r} is not accepted: layer {layer.name!r} has {filters} features "
                         f"(output channels), so give an int in 0..{filters - 1}.")
    return int(feature)


def similarity_figure(layer, feature: int = 0, unit: str = "output cell") -> Figure:
    """The centroids of a layer drawn over its similarity map, in the layer's output grid.

    Each output cell is coloured by its dominant centroid, paler where that centroid's mixing
    weight S_s(i, j) is smaller (the title gives its range and whether the weights are
    normalised); the centroids are numbered dots in their colours, placed where their layer
    coordinates (0..scale) fall on the output grid, and named with that position in the
    legend. Axes count output cells: column j and row i (rows grow downwards like an
    image's); ``unit`` names what a cell is, e.g. 'image pixel' for a first block whose
    output has the image's size.

    Args:
        layer: a built layer with centroids.
        feature: the output channel whose map is drawn (with per-feature centroids each has
            its own; otherwise one map serves every channel).
        unit: what one output cell is, for the axis labels.

    Raises:
        TypeError: if ``layer`` has no centroids.
        ValueError: ``feature`` is not one of the layer's output channels.
    """
    feature = check_feature(check_centroids(layer, "a similarity map"), feature)
    per_feature = bool(getattr(layer, "per_feature", False))
    sim = similarities(layer)[:, :, feature if per_feature else 0, :]  # [oh, ow, S]
    oh, ow, n = sim.shape
    scale = layer.scale
    # Layer coordinates (x, y) in [0, scale] → output columns / rows: cell (i, j) sits at (j, i)·scale/(size − 1).
    centroids = numpy(layer.centroids)[feature if per_feature else 0]  # [S, 2] as (x, y)
    cells_xy = centroids / scale * np.array([max(ow - 1, 1), max(oh - 1, 1)])
    dominant = np.argmax(sim, axis=-1)
    strength = sim.max(axis=-1)
    spread = strength.max() - strength.min()
    weight = 0.35 + 0.65 * ((strength - strength.min()) / spread if spread > 0 else np.ones_like(strength))
    # Past 12 centroids the colours repeat; the numbers on the dots still tell them apart.
    palette = np.asarray([centroid_colors(MAX_CENTROID_COLORS)[s % MAX_CENTROID_COLORS] for s in range(n)])
    cells = 1.0 - weight[..., None] * (1.0 - palette[dominant])

    fig = Figure(figsize=(6.6, 4.4), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(cells, extent=(-0.5, ow - 0.5, oh - 0.5, -0.5), interpolation="nearest")
    ax.scatter(cells_xy[:, 0], cells_xy[:, 1], s=90, c=palette, edgecolors="black", linewidths=1.2, zorder=3)
    for s, (x, y) in enumerate(cells_xy):
        ax.annotate(str(s), (x, y), xytext=(6, 6), textcoords="offset points", fontsize=8, zorder=4)
    lo = min(-0.5, float(cells_xy.min()) - 0.3)
    ax.set_xlim(lo, max(ow - 0.5, float(cells_xy[:, 0].max()) + 0.3))
    ax.set_ylim(max(oh - 0.5, float(cells_xy[:, 1].max()) + 0.3), lo)
    ax.set_aspect("equal")
    ax.set_xlabel(f"column ({unit}s)")
    ax.set_ylabel(f"row ({unit}s, downwards)")
    which = (f"feature {feature} of {layer.filters}" if per_feature
             else f"one map for all {layer.filters} features")
    # One wording for every layer; the note says whether a cell's weights sum to 1 (how soft the
    # mixing is: near 1/S a cell blends all kernels almost equally) or are raw similarities.
    norm = "normalised: a cell's weights sum to 1" if layer.local_normalization else "not normalised"
    ax.set_title(f"{layer.name}: dominant centroid per {unit} ({oh}×{ow}), {which}\n"
                 f"its mixing weight S_s(i, j): {strength.min():.2f} to {strength.max():.2f}\n({norm})", fontsize=9)
    labels = [f"centroid {s} at ({x:.1f}, {y:.1f})" for s, (x, y) in enumerate(cells_xy)]
    ax.legend(handles=centroid_handles(palette, labels), loc="upper left", bbox_to_anchor=(1.02, 1.0),
              fontsize=7, frameon=False, title="centroid (column, row)", title_fontsize=8)
    fig.tight_layout()
    return fig
