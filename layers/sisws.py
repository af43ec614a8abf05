"""``sisws`` / ``sisws_trainable``: spatial interpolation soft weight sharing.

S kernel–centroid pairs (KCPs). Output cell (i, j) sits at p_ij = (x_j, y_i) with
y = linspace(0, scale, H_out), x = linspace(0, scale, W_out). KCP s has a centroid
c_s = (x_s, y_s) and a 2×2 matrix A_s (initialised to scale·I); its similarity is
S_s(i, j) = exp(−‖A_s (c_s − p_ij)‖²), optionally divided by Σ_s S_s. The output is
act(Σ_s S_s ⊙ (W_s ∗ X + b_s)). With one centroid and normalisation it is Conv2D.

Two routes compute the same numbers:
- ``conv``: one convolution with K·S filters, reshaped to [B, H, W, K, S], weighted and
  summed over S (the original layer's formulation; ~S× a K-filter convolution).
- ``mix``: mix the S kernels per position first, W_ij = Σ_s S_s(i, j)·W_s, then apply one
  locally connected product (~1× a K-filter convolution in multiply-adds, plus a
  batch-independent mixing step).

The two families declare what the harness asks (:mod:`layers.family`): pictures of the
similarity map and the kernels, the centroid flags of `wsbench train` (validated here),
the centroids as watched weights, and one `wsbench speed` row per route.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from layers.centroids import (centroid_count, check_n_centroids, grid_centroids,  # noqa: F401  (re-exported)
                              layout_for_count, similarities, similarity_logits)
from layers.local_ops import locally_connected
from layers.registry import Family, SpeedSpec, SpeedTarget, TrainFlag, register_family
from layers.routes import ROUTES, RoutedLayer  # noqa: F401  (ROUTES re-exported)
from layers.shapes import conv_output_shape, pair


@keras.saving.register_keras_serializable(package="wsbench")
class SISWS2D(RoutedLayer):
    """Spatial interpolation soft weight sharing, as the original layer defines it.

    Args:
        filters: K, output channels.
        kernel_size, strides, padding: as Conv2D ('valid' or 'same').
        n_centroids: an int S (centroids initialised uniformly at random in [0, scale]²) or a
            (rows, cols) grid (interior-grid initialisation).
        centroids_trainable: learn the centroid positions.
        sigma_trainable: learn the matrices A_s; defaults to ``centroids_trainable``.
        per_feature: one set of centroids per output channel. As in the original, a fixed
            grid ignores it (every feature would get the same grid).
        local_normalization: divide the similarities by their sum over S.
        scale: side of the coordinate square, and the initial A_s = scale·I.
        activation, use_bias, kernel_initializer, bias_initializer: as Conv2D.
        route: 'conv', 'mix' or 'auto' (n = S); see :class:`layers.routes.RoutedLayer`.
        seed: seed of the random centroid initialisation.
    """

    initializer_args = ("kernel_initializer", "bias_initializer")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", n_centroids=(2, 2),
                 centroids_trainable=False, sigma_trainable=None, per_feature=False, local_normalization=True,
                 scale=1.0, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer="zeros", route="auto", seed=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, route=route, activation=activation,
                         use_bias=use_bias, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         **kwargs)
        self.n_centroids = check_n_centroids(n_centroids)
        self.n_kcp = centroid_count(self.n_centroids)
        self.centroids_trainable = bool(centroids_trainable)
        self.sigma_trainable = self.centroids_trainable if sigma_trainable is None else bool(sigma_trainable)
        grid = isinstance(self.n_centroids, tuple)
        self.per_feature = bool(per_feature) and not (grid and not self.centroids_trainable)
        self.local_normalization = bool(local_normalization)
        if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale={scale!r} is not accepted: give a positive finite number.")
        self.scale = float(scale)
        self.seed = seed

    @property
    def n_mixed_kernels(self) -> int:
        return self.n_kcp

    # -- weights ---------------------------------------------------------------------------
    def build(self, input_shape):
        oh, ow = self.output_hw(input_shape)
        self.out_hw = (oh, ow)
        kh, kw = self.kernel_size
        k, s = self.filters, self.n_kcp
        f = k if self.per_feature else 1
        # Channel k·S + s of the kernel is KCP s of filter k, as in the original reshape.
        self.kernel = self.add_weight(name="kernel", shape=(kh, kw, int(input_shape[-1]), k * s),
                                      initializer=self.kernel_initializer_for(int(input_shape[-1])))
        self.bias = (self.add_weight(name="bias", shape=(k * s,), initializer=self.bias_initializer)
                     if self.use_bias else None)
        if isinstance(self.n_centroids, tuple):
            init = np.tile(grid_centroids(*self.n_centroids, self.scale)[None], (f, 1, 1))
            centroid_init = keras.initializers.Constant(init)
        else:
            centroid_init = keras.initializers.RandomUniform(0.0, self.scale, seed=self.seed)
        # Fixed centroids are non-trainable weights so a saved model keeps its random layout.
        self.centroids = self.add_weight(name="centroids", shape=(f, s, 2), initializer=centroid_init,
                                         trainable=self.centroids_trainable)
        self.bandwidth = self.add_weight(
            name="bandwidth", shape=(f, s, 2, 2),
            initializer=keras.initializers.Constant(np.tile(self.scale * np.eye(2, dtype="float32"), (f, s, 1, 1))),
            trainable=self.sigma_trainable,
        )

    # -- forward ---------------------------------------------------------------------------
    def similarity_map(self):
        """S_s(i, j) as [out_h, out_w, F, S] (F = filters if per_feature else 1)."""
        oh, ow = self.out_hw
        return similarities(self.centroids, self.bandwidth, oh, ow, self.scale, self.local_normalization)

    def call(self, inputs):
        sim = self.similarity_map()
        k, s = self.filters, self.n_kcp
        oh, ow = self.out_hw
        if self.chosen_route() == "conv":
            conv = ops.conv(inputs, self.kernel, strides=self.strides, padding=self.padding)
            if self.use_bias:
                conv = conv + self.bias
            out = ops.sum(ops.reshape(conv, (-1, oh, ow, k, s)) * sim, axis=-1)
        else:
            kernel = self.position_kernels_flat(sim)
            out = locally_connected(inputs, kernel, self.kernel_size, self.strides, self.padding)
            if self.use_bias:
                out = out + ops.sum(ops.reshape(self.bias, (k, s)) * sim, axis=-1)
        return self.activation(out)

    def position_kernels_flat(self, sim=None):
        """Σ_s S_s(i, j)·W_s at every position, as [out_h·out_w, kh·kw·c_in, K]."""
        sim = self.similarity_map() if sim is None else sim
        oh, ow = self.out_hw
        k, s = self.filters, self.n_kcp
        w = ops.reshape(self.kernel, (-1, k, s))  # [C, K, S], C = kh·kw·c_in
        p = ops.reshape(sim, (oh * ow, -1, s))  # [P, F, S]
        if self.per_feature:
            return ops.einsum("cks,pks->pck", w, p)
        # One plain matmul [P, S] × [S, C·K]: about twice as fast as the einsum, both ways.
        mixed = ops.matmul(p[:, 0, :], ops.transpose(ops.reshape(w, (-1, s))))
        return ops.reshape(mixed, (oh * ow, -1, k))

    def get_config(self):
        config = super().get_config()
        config.update(
            n_centroids=list(self.n_centroids) if isinstance(self.n_centroids, tuple) else self.n_centroids,
            centroids_trainable=self.centroids_trainable, sigma_trainable=self.sigma_trainable,
            per_feature=self.per_feature, local_normalization=self.local_normalization, scale=self.scale,
            seed=self.seed,
        )
        return config


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
    layer_type = SISWS2D
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
        return SISWS2D(filters, kernel_size, strides=strides, padding=padding, **hp)

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
