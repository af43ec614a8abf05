"""What ``wsbench speed`` times: one layer per row, built for one input shape.

A :class:`Variant` is a callable layer plus its trainable variables and the analytic
multiply-accumulates its formulation performs, so the timer can run and differentiate it
without knowing what it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, List, Tuple

from layers.shapes import conv_output_shape, pair

ROUTES = ("conv", "mix", "auto")
SOFT_FAMILIES = ("sisws", "sisws_trainable", "lrlc")


@dataclass(frozen=True)
class SpeedShape:
    """The layer shape every variant is built for."""

    batch: int
    height: int
    width: int
    channels: int
    filters: int
    kernel_size: int
    strides: int = 1
    padding: str = "valid"
    centroids: int = 4
    rank: int = 4

    @property
    def input_shape(self) -> Tuple[int, int, int, int]:
        return (self.batch, self.height, self.width, self.channels)

    @property
    def output_shape(self) -> Tuple[int, int, int, int]:
        oh, ow = conv_output_shape((self.height, self.width), self.kernel_size, self.strides, self.padding)
        return (self.batch, oh, ow, self.filters)

    @property
    def n_centroids(self):
        """A square S becomes a grid (as the 'gridRxR' layouts); any other S is random."""
        root = math.isqrt(self.centroids)
        return (root, root) if root * root == self.centroids else self.centroids

    def base_macs(self) -> int:
        """Multiply-accumulates per image of a K-filter convolution (= a locally connected layer)."""
        _, oh, ow, k = self.output_shape
        kh, kw = pair(self.kernel_size, "kernel_size")
        return oh * ow * kh * kw * self.channels * k


@dataclass
class Variant:
    """One timed row.

    Attributes:
        name: row label, e.g. ``sisws[mix]``.
        family: layer family ('conv', 'locally_connected', 'sisws', ...).
        kind: 'baseline', 'ours', 'reference' or 'tf_keras'.
        route: the route that ran ('' when the layer has none).
        compare_to: the row this one is compared with ('tf_keras' = the fastest tf_keras row).
        macs: multiply-accumulates per image of the forward pass as this variant computes it.
        fn: input tensor → output tensor.
        variables: the trainable variables a training step differentiates.
    """

    name: str
    family: str
    kind: str
    route: str
    compare_to: str
    macs: float
    fn: Callable
    variables: List = field(default_factory=list)


def _keras_layer(layer, shape: SpeedShape):
    layer.build(shape.input_shape)
    return layer


def _soft_macs(shape: SpeedShape, n: int, route: str) -> float:
    """Per-image MACs of a soft-sharing layer with n kernels mixed per position.

    The conv route convolves with K·n filters and weights the n maps (the family's formula);
    the mix route mixes n kernels at every position once per batch, then does one locally
    connected product.
    """
    _, oh, ow, k = shape.output_shape
    if route == "conv":
        return oh * ow * k * n * (shape.base_macs() // (oh * ow * k) + 1)
    return shape.base_macs() * (1 + n / shape.batch)


def build_variants(shape: SpeedShape, only=None) -> Tuple[List[Variant], List[str]]:
    """Builds every variant for ``shape``.

    Args:
        shape: the input/layer shape.
        only: optional collection of variant names to build (the memory probe builds a few).

    Returns:
        (variants, notes): notes say which rows were skipped and why.
    """
    import keras

    from bench.speed import references as refs
    from layers import LocallyConnected2D, LowRankLocallyConnected2D, SISWS2D

    ks, st, pad, k = shape.kernel_size, shape.strides, shape.padding, shape.filters
    s, r = shape.centroids, shape.rank
    base = shape.base_macs()
    specs: List[Tuple[str, Callable[[], Variant]]] = []
    notes: List[str] = []

    def conv(filters, name, macs):
        layer = _keras_layer(keras.layers.Conv2D(filters, ks, strides=st, padding=pad), shape)
        return Variant(name, "conv", "baseline", "", "", macs, layer, layer.trainable_variables)

    specs.append(("conv_K", lambda: conv(k, "conv_K", base)))
    specs.append(("conv_KS", lambda: conv(k * s, "conv_KS", base * s)))

    def ours_lc():
        layer = _keras_layer(LocallyConnected2D(k, ks, strides=st, padding=pad), shape)
        return Variant("locally_connected", "locally_connected", "ours", "", "tf_keras", base, layer,
                       layer.trainable_variables)

    specs.append(("locally_connected", ours_lc))
    try:
        import tf_keras
    except ImportError:
        tf_keras = None
        notes.append("tf_keras is not installed (it is a dev extra: pip install -e '.[dev]'): "
                     "the tf_keras LocallyConnected2D rows are skipped.")
    if tf_keras is not None:
        for impl in (1, 2, 3):
            if impl == 1 and pad != "valid":
                notes.append("tf_keras LocallyConnected2D implementation 1 supports only padding='valid': row skipped.")
                continue

            def tfk(impl=impl):
                layer = tf_keras.layers.LocallyConnected2D(k, ks, strides=st, padding=pad, implementation=impl)
                layer.build(shape.input_shape)
                return Variant(f"tf_keras_lc{impl}", "locally_connected", "tf_keras", "", "", base, layer,
                               layer.trainable_variables)

            specs.append((f"tf_keras_lc{impl}", tfk))

    def sisws(family, route):
        def make():
            layer = _keras_layer(SISWS2D(k, ks, strides=st, padding=pad, n_centroids=shape.n_centroids,
                                         centroids_trainable=family == "sisws_trainable", route=route, seed=0), shape)
            ran = layer.chosen_route()
            return Variant(f"{family}[{route}]", family, "ours", ran, f"{family}_reference", _soft_macs(shape, s, ran),
                           layer, layer.trainable_variables)
        return make

    def sisws_ref(family):
        def make():
            layer = _keras_layer(SISWS2D(k, ks, strides=st, padding=pad, n_centroids=shape.n_centroids,
                                         centroids_trainable=family == "sisws_trainable", seed=0), shape)
            return Variant(f"{family}_reference", family, "reference", "", "", _soft_macs(shape, s, "conv"),
                           lambda x: refs.sisws_reference(layer, x), layer.trainable_variables)
        return make

    for family in ("sisws", "sisws_trainable"):
        for route in ROUTES:
            specs.append((f"{family}[{route}]", sisws(family, route)))
        specs.append((f"{family}_reference", sisws_ref(family)))

    def lrlc(route):
        def make():
            layer = _keras_layer(LowRankLocallyConnected2D(k, ks, strides=st, padding=pad, rank=r, route=route), shape)
            ran = layer.chosen_route()
            return Variant(f"lrlc[{route}]", "lrlc", "ours", ran, "lrlc_reference", _soft_macs(shape, r, ran), layer,
                           layer.trainable_variables)
        return make

    def lrlc_ref():
        layer = _keras_layer(LowRankLocallyConnected2D(k, ks, strides=st, padding=pad, rank=r), shape)
        return Variant("lrlc_reference", "lrlc", "reference", "", "", _soft_macs(shape, r, "conv"),
                       lambda x: refs.lrlc_reference(layer, x), layer.trainable_variables)

    for route in ROUTES:
        specs.append((f"lrlc[{route}]", lrlc(route)))
    specs.append(("lrlc_reference", lrlc_ref))

    wanted = None if only is None else set(only)
    variants = [make() for name, make in specs if wanted is None or name in wanted]
    return variants, notes
