"""``sisws`` / ``sisws_trainable``: the two SISWS families (the layer: :mod:`layers.sisws`).

They declare what the harness asks (:mod:`layers.family`): the search space (centroid
layout, normalisation, scale; ``per_feature`` only where it applies), exact formulas,
pictures of the similarity map and the kernels, the centroid flags of `wsbench train`
(validated here), the centroids as watched weights, and one `wsbench speed` row per route.
"""

from __future__ import annotations

from layers.centroids import centroid_count, check_n_centroids, layout_for_count
from layers.registry import Family, SpeedSpec, SpeedTarget, TrainFlag, register_family
from layers.shapes import conv_output_shape, pair

#: Colour coding tints each position by its dominant centroid; bench.visualize's
#: colour-blind-safe palette tells at most this many apart (the original layer's limit too).
MAX_COLOR_CENTROIDS = 12
#: The original demo's centroid layout when neither --centroid-grid nor --n-centroids is given.
DEFAULT_TRAIN_GRID = (2, 2)

_TRAIN_FLAGS = (
    TrainFlag("--centroid-grid", "two numbers R C: initialise the centroids on an R×C grid (default 2 2)",
              "centroids", {"nargs": "+", "type": int, "metavar": "N"}),
    TrainFlag("--n-centroids", "initialise N centroids uniformly at random instead of on a grid", "centroids",
              {"type": int, "metavar": "N"}),
    TrainFlag("--centroids-trainable", "learn the centroid positions (and bandwidths); always on for "
              "sisws_trainable", "centroids", {"action": "store_true"}),
    TrainFlag("--color-coding", "also draw the kernels tinted by their dominant centroid, with a legend (at most "
              f"{MAX_COLOR_CENTROIDS} centroids)", "centroids", {"action": "store_true"}),
)


def _layout_text(n_centroids) -> str:
    if isinstance(n_centroids, int):
        return f"--n-centroids {n_centroids}"
    return f"--centroid-grid {n_centroids[0]} {n_centroids[1]}"


def _train_layout(grid, count):
    """n_centroids from --centroid-grid / --n-centroids (None when not given)."""
    if grid is not None and count is not None:
        raise ValueError(f"--centroid-grid {' '.join(map(str, grid))} and --n-centroids {count} exclude each "
                         f"other: a grid places the centroids on a grid, --n-centroids places that many at "
                         f"random. Give one of them.")
    if grid is not None:
        if len(grid) != 2:
            raise ValueError(f"--centroid-grid {' '.join(map(str, grid))} is not accepted: give two numbers, "
                             f"rows and columns (e.g. --centroid-grid 2 2).")
        if min(grid) < 1:
            raise ValueError(f"--centroid-grid {' '.join(map(str, grid))} is not accepted: rows and columns "
                             f"must be positive.")
        return (int(grid[0]), int(grid[1]))
    if count is not None:
        if count < 1:
            raise ValueError(f"--n-centroids {count} is not accepted: give a positive number.")
        return int(count)
    return DEFAULT_TRAIN_GRID


class _SISWSFamilyBase(Family):
    trainable_centroids = False
    hard_sharing_hp = {"n_centroids": 1}
    layer_path = "layers.sisws:SISWS2D"
    pictures = ("similarity", "kernels")
    position_aware = True
    watched_weights = ("centroids",)
    train_flags = _TRAIN_FLAGS
    routes = ("conv", "mix", "auto")

    def train_hyperparameters(self, flags):
        n_centroids = _train_layout(flags.get("centroid_grid"), flags.get("n_centroids"))
        count = centroid_count(n_centroids)
        if flags.get("color_coding") and count > MAX_COLOR_CENTROIDS:
            raise ValueError(f"--color-coding supports at most {MAX_COLOR_CENTROIDS} centroids, but the layout "
                             f"asks for {count} ({_layout_text(n_centroids)}). Use fewer centroids or drop "
                             f"--color-coding.")
        hp = {"n_centroids": n_centroids}
        if flags.get("centroids_trainable"):
            hp["centroids_trainable"] = True
        return hp

    def train_pictures(self, flags):
        return ("kernels_color",) if flags.get("color_coding") else ()

    def make_layer(self, filters, kernel_size, strides, padding, **hp):
        hp.setdefault("centroids_trainable", self.trainable_centroids)
        return self.layer_type(filters, kernel_size, strides=strides, padding=padding, **hp)

    def hyperparameters(self, hp):
        layout = hp.Choice("centroids", ["grid2x2", "grid3x3", "random4", "random9"])
        kwargs = {
            "n_centroids": (int(layout[4]), int(layout[6])) if layout.startswith("grid") else int(layout[6:]),
            "local_normalization": hp.Boolean("local_normalization", default=True),
            "scale": hp.Choice("scale", [1.0, 2.0, 4.0]),
        }
        if self.trainable_centroids or not layout.startswith("grid"):
            kwargs["per_feature"] = hp.Boolean("per_feature", default=False)
        return kwargs

    def param_count(self, input_shape, filters, kernel_size, strides=1, padding="valid", n_centroids=(2, 2),
                    centroids_trainable=None, sigma_trainable=None, per_feature=False, use_bias=True, **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        conv_output_shape(input_shape, kernel_size, strides, padding)  # rejects a kernel larger than a VALID input
        n_centroids = check_n_centroids(n_centroids)
        s = centroid_count(n_centroids)
        trainable = self.trainable_centroids if centroids_trainable is None else bool(centroids_trainable)
        sigma = trainable if sigma_trainable is None else bool(sigma_trainable)
        per_feature = bool(per_feature) and not (isinstance(n_centroids, tuple) and not trainable)
        f = filters if per_feature else 1
        return (kh * kw * int(input_shape[-1]) * filters * s + (filters * s if use_bias else 0)
                + (2 * f * s if trainable else 0) + (4 * f * s if sigma else 0))

    def macs(self, input_shape, filters, kernel_size, strides=1, padding="valid", n_centroids=(2, 2), **hp):
        # The original formulation: one convolution with K·S filters plus the S-way weighted sum.
        kh, kw = pair(kernel_size, "kernel_size")
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        s = centroid_count(n_centroids)
        return oh * ow * filters * s * (kh * kw * int(input_shape[-1]) + 1)


def _speed_hyperparameters(shape):
    return {"n_centroids": layout_for_count(shape.centroids), "seed": 0}


@register_family("sisws")
class SISWSFamily(_SISWSFamilyBase):
    description = "SISWS: S kernel-centroid pairs mixed by position, fixed centroids (soft sharing)."
    speed = SpeedSpec(_speed_hyperparameters, reference="sisws", targets=(
        SpeedTarget("reference", 0.75, route="auto"), SpeedTarget("conv_K", 4.0, route="auto"),
        SpeedTarget("conv_K", 2.5, route="auto", aim=True)))


@register_family("sisws_trainable")
class SISWSTrainableFamily(_SISWSFamilyBase):
    description = "SISWS with trainable centroid positions and bandwidths (soft sharing, learned layout)."
    trainable_centroids = True
    speed = SpeedSpec(_speed_hyperparameters, reference="sisws", targets=(SpeedTarget("reference", 0.75, route="auto"),))
