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
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from bench.visualize.images import figure_to_image

MAX_CENTROID_COLORS = 12
# Two colours from Paul Tol's colour-blind-safe schemes (teal, wine) extend seaborn's
# 10-colour 'colorblind' palette to the 12 the original layer allowed.
_EXTRA_COLORS = ((0x44 / 255, 0xAA / 255, 0x99 / 255), (0x88 / 255, 0x22 / 255, 0x55 / 255))

# seaborn's order puts orange and vermillion 1st and 3rd; with few centroids (2×2 is the
# default) pink and yellow are easier to tell from orange, so vermillion comes later.
_COLORBLIND_ORDER = (0, 1, 2, 4, 8, 9, 3, 5, 7, 6)

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


def similarity_figure(layer) -> Figure:
    """The centroids of a layer drawn over its similarity map.

    Each output cell is coloured by its dominant centroid, paler where that centroid's share
    of the similarity is smaller (the title gives the range of that share); the centroids are
    drawn as numbered dots in their colours and named with their (x, y) in the legend.
    Axes are the layer's coordinates (0..scale; y grows downwards like image rows). With
    per-feature centroids, feature 0 is shown.

    Raises:
        TypeError: if ``layer`` has no centroids.
    """
    sim = similarities(layer)[:, :, 0, :]  # [oh, ow, S]
    oh, ow, n = sim.shape
    scale = layer.scale
    centroids = numpy(layer.centroids)[0]  # [S, 2] as (x, y)
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
    ax.legend(handles=centroid_handles(palette, labels), loc="upper left", bbox_to_anchor=(1.02, 1.0),
              fontsize=7, frameon=False, title="centroid (x, y)", title_fontsize=8)
    fig.tight_layout()
    return fig
