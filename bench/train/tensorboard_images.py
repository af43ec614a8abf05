"""A Keras callback writing the pictures of :mod:`bench.visualize` to TensorBoard and as PNGs.

For each watched spatial layer it writes, at a step = epoch index:

- ``<layer>/kernels``: one image per output filter, the kernels at sampled positions;
- ``<layer>/kernels_overview``: all filters in one figure;
- ``<layer>/<kind>`` for every other picture kind the layer's family declares
  (``Family.pictures``; for SISWS ``<layer>/similarity``, the centroids over the similarity map);
- with the extra kind ``'kernels_color'`` (``Family.train_pictures``: SISWS's --color-coding)
  and a layer with centroids: ``<layer>/kernels_color`` and ``<layer>/kernels_color_overview``
  tinted by dominant centroid, and ``legend``.

The PNGs go to ``<png_dir>/<layer>/`` with the same names (``kernels_filter_03.png``, …) and
are overwritten at each write, so they always show the latest state.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import keras
import numpy as np
from matplotlib.image import imsave

from bench import visualize as viz

#: Smallest side (pixels) of a kernel tile in TensorBoard and in the PNGs.
TILE_SIDE = 128


#: The extra picture kind of kernels tinted by dominant centroid (per filter, overview, legend).
KERNELS_COLOR = "kernels_color"


class KernelImages(keras.callbacks.Callback):
    """Writes kernel grids and the pictures the layers' family declares.

    Args:
        logdir: directory of the image event files (a TensorBoard run of its own).
        png_dir: directory of the PNG copies.
        layer_names: spatial layers to draw.
        pictures: picture kinds to write besides the family's own (``Family.train_pictures``),
            e.g. ``('kernels_color',)``.
        every_epoch: write after every epoch; otherwise once, when training ends.
        n_positions: sampled output positions per axis.
        family: the name of the layers' family; None: each layer's owning family
            (:func:`layers.family_of`).
    """

    def __init__(self, logdir, png_dir, layer_names: Sequence[str], pictures: Sequence[str] = (),
                 every_epoch: bool = True, n_positions: int = 4, family: Optional[str] = None):
        super().__init__()
        self.logdir = str(logdir)
        self.png_dir = Path(png_dir)
        self.layer_names = list(layer_names)
        self.pictures = tuple(pictures)
        self.every_epoch = bool(every_epoch)
        self.n_positions = n_positions
        self.family = family
        self.last_epoch = -1
        self.written_pngs: List[str] = []
        self._writer = None

    # -- keras hooks -------------------------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        self.last_epoch = epoch
        if self.every_epoch:
            self.write(epoch)

    def on_train_end(self, logs=None):
        if not self.every_epoch and self.last_epoch >= 0:
            self.write(self.last_epoch)
        if self._writer is not None:
            self._writer.close()

    # -- drawing -----------------------------------------------------------------------------
    def images(self) -> Dict[str, np.ndarray]:
        """Tag → image batch [N, H, W, 3] in [0, 1] for the current weights."""
        import layers

        out: Dict[str, np.ndarray] = {}
        for name in self.layer_names:
            layer = self.model.get_layer(name)
            family = layers.get_family(self.family) if self.family else layers.family_of(layer)
            out[f"{name}/kernels"] = viz.enlarge(viz.kernel_grid_image(layer, self.n_positions), TILE_SIDE)
            out[f"{name}/kernels_overview"] = viz.figure_to_image(viz.kernel_grid_figure(layer, self.n_positions))[None]
            # The kernel grids above stand for the family's 'kernels' picture.
            kinds = [k for k in self.pictures + (family.pictures if family else ()) if k != "kernels"]
            for kind in dict.fromkeys(kinds):
                if kind == KERNELS_COLOR:
                    if viz.has_centroids(layer):
                        for tag, image in self._colour_coded(name, layer).items():
                            out.setdefault(tag, image)  # one legend: the first layer's
                else:
                    figure = viz.draw_picture(kind, layer, family, n_positions=self.n_positions)
                    out[f"{name}/{kind}"] = viz.figure_to_image(figure)[None]
        return out

    def _colour_coded(self, name: str, layer) -> Dict[str, np.ndarray]:
        return {
            f"{name}/kernels_color": viz.enlarge(viz.kernel_grid_image(layer, self.n_positions, color_coding=True),
                                                 TILE_SIDE),
            f"{name}/kernels_color_overview": viz.figure_to_image(
                viz.kernel_grid_figure(layer, self.n_positions, color_coding=True))[None],
            "legend": viz.legend_image(viz.n_centroids(layer))[None],
        }

    def write(self, step: int) -> None:
        """Writes every image as a summary at ``step`` and as PNGs."""
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.logdir)
        images = self.images()
        with self._writer.as_default(step=int(step)):
            for tag, batch in images.items():
                tf.summary.image(tag, batch.astype("float32"), max_outputs=len(batch))
        self._writer.flush()
        self.written_pngs = self._write_pngs(images)

    def _write_pngs(self, images: Dict[str, np.ndarray]) -> List[str]:
        paths = []
        for tag, batch in images.items():
            layer, _, what = tag.rpartition("/")
            folder = self.png_dir / layer if layer else self.png_dir
            os.makedirs(folder, exist_ok=True)
            if len(batch) == 1:
                targets = [folder / f"{what}.png"]
            else:
                targets = [folder / f"{what}_filter_{k:02d}.png" for k in range(len(batch))]
            for path, image in zip(targets, batch):
                imsave(path, np.clip(image, 0.0, 1.0))
                paths.append(str(path))
        return paths
