"""Pictures of what a spatial layer learned: its kernels per position and its centroids.

Every function takes a *built* layer (standalone or inside a model) and reads its weights;
nothing here trains or changes a layer. Arrays returned as images are float32 RGB in [0, 1];
figures are plain ``matplotlib.figure.Figure`` objects drawn with the Agg canvas, so no
display and no global pyplot state are needed. Nothing here names a layer class: which
pictures a family's layer offers, its ``Family`` hooks say.

- :mod:`~bench.visualize.kernels`: the kernel at every position, tiled into images;
- :mod:`~bench.visualize.centroids`: dominant centroids, their colours, the similarity map;
- :mod:`~bench.visualize.pictures`: a family's declared pictures (:func:`model_pictures`);
- :mod:`~bench.visualize.images`: figures to arrays, enlarging, title lines.
"""

from bench.visualize.centroids import (MAX_CENTROID_COLORS, centroid_colors, dominant_centroid_map, has_centroids,
                                       legend_image, n_centroids, similarity_figure)
from bench.visualize.images import add_title_line, enlarge, figure_to_image
from bench.visualize.kernels import kernel_grid_figure, kernel_grid_image, position_kernels, sampled_positions
from bench.visualize.pictures import (STANDARD_PICTURES, draw_picture, families_with_pictures, first_family_layer,
                                      model_pictures)

__all__ = [
    "MAX_CENTROID_COLORS", "centroid_colors", "dominant_centroid_map", "has_centroids", "legend_image",
    "n_centroids", "similarity_figure", "add_title_line", "enlarge", "figure_to_image", "kernel_grid_figure",
    "kernel_grid_image", "position_kernels", "sampled_positions", "STANDARD_PICTURES", "draw_picture",
    "families_with_pictures", "first_family_layer", "model_pictures",
]
