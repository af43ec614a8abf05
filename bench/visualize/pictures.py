"""A family's pictures, chosen by its hooks: what the report's figure 5 and `wsbench train` draw.

A family names the picture kinds its layer offers (``Family.pictures``); this module draws
them. It knows two standard kinds and asks the family for any other:

- ``'kernels'``: :func:`~bench.visualize.kernels.kernel_grid_figure`, tinted by dominant
  centroid when the layer has 1 to 12 centroids;
- ``'similarity'``: :func:`~bench.visualize.centroids.similarity_figure`.

A family overrides a kind, or adds one of its own, with ``Family.draw_picture(kind, layer)``.
"""

from __future__ import annotations

from typing import List, Tuple

from matplotlib.figure import Figure

from bench.visualize.centroids import MAX_CENTROID_COLORS, has_centroids, n_centroids, similarity_figure
from bench.visualize.images import add_title_line
from bench.visualize.kernels import kernel_grid_figure

#: The picture kinds this module draws itself.
STANDARD_PICTURES = ("kernels", "similarity")


def families_with_pictures() -> List[str]:
    """Registered families whose layer offers pictures, in registration order."""
    import layers

    return [name for name in layers.list_families() if layers.get_family(name).pictures]


def draw_picture(kind: str, layer, family=None, n_positions: int = 4, feature: int = 0,
                 unit: str = "output cell") -> Figure:
    """One picture of a built layer.

    Args:
        kind: a picture kind (see the module doc).
        layer: the built layer.
        family: its :class:`layers.Family` (asked first, see ``Family.draw_picture``), or None
            for the family that owns the layer.
        n_positions: sampled output positions per axis of the kernel grid.
        feature, unit: the output channel and the name of one output cell, for the
            similarity map (see :func:`~bench.visualize.centroids.similarity_figure`).

    Raises:
        ValueError: a kind neither the family nor this module draws.
    """
    import layers

    family = family if family is not None else layers.family_of(layer)
    figure = family.draw_picture(kind, layer) if family is not None else None
    if figure is not None:
        return figure
    if kind == "kernels":
        coded = has_centroids(layer) and n_centroids(layer) <= MAX_CENTROID_COLORS
        return kernel_grid_figure(layer, n_positions=n_positions, color_coding=coded)
    if kind == "similarity":
        return similarity_figure(layer, feature=feature, unit=unit)
    owner = f"family {family.name!r}" if family is not None else "no family"
    raise ValueError(f"picture {kind!r} of layer {layer.name!r} is drawn neither by {owner} (Family.draw_picture) "
                     f"nor by bench.visualize, which draws {list(STANDARD_PICTURES)}.")


def first_family_layer(model, family_name: str):
    """The first layer of ``model`` (in ``model.layers`` order) that family ``family_name`` owns, or None."""
    import layers

    family = layers.get_family(family_name)
    return next((layer for layer in model.layers if family.owns(layer)), None)


def model_pictures(model, family_name: str, n_positions: int = 4, label: str = "", feature: int = 0,
                   unit: str = "output cell") -> List[Tuple[str, Figure]]:
    """The pictures family ``family_name`` declares, drawn for its first layer in ``model``.

    Args:
        model: a built Keras model (e.g. loaded from ``models/<family>__<budget>.keras``).
        family_name: a registered family.
        n_positions: sampled output positions per axis of the kernel grid.
        label: if given, a first title line for every picture (e.g. "sisws @ budget 3,000,
            first block").
        feature, unit: passed to :func:`draw_picture`.

    Returns:
        ``[(kind, figure), ...]`` in the order of ``Family.pictures`` (for the SISWS
        families ``[('similarity', …), ('kernels', …)]``); ``[]`` for a family without
        pictures.

    Raises:
        FamilyError: an unknown family.
        ValueError: the family has pictures but ``model`` holds none of its layers.
    """
    import layers

    family = layers.get_family(family_name)
    if not family.pictures:
        return []
    layer = first_family_layer(model, family_name)
    if layer is None:
        kind = family.layer_type.__name__ if family.layer_type is not None else "family"
        raise ValueError(f"model {model.name!r} holds no {kind} layer of family {family_name!r} to draw.")
    pictures = []
    for kind in family.pictures:
        figure = draw_picture(kind, layer, family, n_positions=n_positions, feature=feature, unit=unit)
        pictures.append((kind, add_title_line(figure, label) if label else figure))
    return pictures

