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

The two families (:mod:`layers.families.sisws`) declare what the harness asks
(:mod:`layers.family`): pictures of the similarity map and the kernels, the centroid flags
of `wsbench train`, the centroids as watched weights, and one `wsbench speed` row per route.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from layers.centroids import (centroid_count, check_n_centroids, grid_centroids,  # noqa: F401  (re-exported)
                              layout_for_count, similarities, similarity_logits)
from layers.families.sisws import DEFAULT_TRAIN_GRID, MAX_COLOR_CENTROIDS  # noqa: F401  (re-exported)
from layers.local_ops import locally_connected
from layers.routes import ROUTES, RoutedLayer  # noqa: F401  (ROUTES re-exported)


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
