"""What ``wsbench speed`` times: one layer per row, built for one input shape.

A :class:`Variant` is a callable layer plus its trainable variables and the analytic
multiply-accumulates its formulation performs, so the timer can run and differentiate it
without knowing what it is. Which rows a family gets, its ``Family.speed`` and
``Family.routes`` hooks say; no layer class is named here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Tuple

from layers.shapes import conv_output_shape, pair

#: The family the conv_K / conv_KS baseline rows are filed under (they are Keras Conv2D layers).
BASELINE_FAMILY = "conv"


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
        family: the layer family the row belongs to.
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


def _conv_baselines(shape: SpeedShape) -> List[Tuple[str, Callable[[], Variant]]]:
    """conv_K (a Conv2D with K filters: a locally connected layer's multiply-adds) and conv_KS
    (K·S filters: what a literal S-kernel soft-sharing convolution costs)."""
    import keras

    def conv(filters, name, macs):
        def make():
            layer = _keras_layer(keras.layers.Conv2D(filters, shape.kernel_size, strides=shape.strides,
                                                     padding=shape.padding), shape)
            return Variant(name, BASELINE_FAMILY, "baseline", "", "", macs, layer, layer.trainable_variables)
        return make

    base = shape.base_macs()
    return [("conv_K", conv(shape.filters, "conv_K", base)),
            ("conv_KS", conv(shape.filters * shape.centroids, "conv_KS", base * shape.centroids))]


def _tf_keras_rows(shape: SpeedShape, family: str, notes: List[str]) -> List[Tuple[str, Callable[[], Variant]]]:
    """tf_keras's LocallyConnected2D implementations 1, 2, 3 (tf_keras is a dev extra; TensorFlow only)."""
    from bench.environment import keras_backend

    if keras_backend() != "tensorflow":
        notes.append(f"the tf_keras LocallyConnected2D rows are left out on {keras_backend()}: tf_keras is Keras 2, "
                     f"which runs on TensorFlow only; {family}'s ratio to them is measured with --backend tensorflow.")
        return []
    try:
        import tf_keras
    except ImportError:
        notes.append("tf_keras is not installed (it is a dev extra: pip install -e '.[dev]'): "
                     "the tf_keras LocallyConnected2D rows are skipped.")
        return []
    specs = []
    for impl in (1, 2, 3):
        if impl == 1 and shape.padding != "valid":
            notes.append("tf_keras LocallyConnected2D implementation 1 supports only padding='valid': row skipped.")
            continue

        def make(impl=impl):
            layer = tf_keras.layers.LocallyConnected2D(shape.filters, shape.kernel_size, strides=shape.strides,
                                                       padding=shape.padding, implementation=impl)
            layer.build(shape.input_shape)
            return Variant(f"tf_keras_lc{impl}", family, "tf_keras", "", "", shape.base_macs(), layer,
                           layer.trainable_variables)

        specs.append((f"tf_keras_lc{impl}", make))
    return specs


def _family_macs(family, shape: SpeedShape, hp) -> float:
    try:
        return family.macs(shape.input_shape[1:], shape.filters, shape.kernel_size, shape.strides, shape.padding, **hp)
    except NotImplementedError:  # a plugin without a MAC formula: count a K-filter convolution
        return shape.base_macs()


def _family_rows(family, shape: SpeedShape, notes: List[str]) -> List[Tuple[str, Callable[[], Variant]]]:
    """A family's rows, from its hooks: one per route (or one), its reference row(s)."""
    from bench.environment import keras_backend
    from bench.speed.references import TF_KERAS, reference_function

    name, spec = family.name, family.speed
    hp = dict(spec.hyperparameters(shape))
    literal = None if spec.reference in (None, TF_KERAS) else reference_function(spec.reference, name,
                                                                                  keras_backend())
    compare_to = TF_KERAS if spec.reference == TF_KERAS else (f"{name}_reference" if literal else "")

    def build(**extra):
        return _keras_layer(family.build(shape.filters, shape.kernel_size, shape.strides, shape.padding,
                                         **hp, **extra), shape)

    def macs(layer, route: str) -> float:
        return _soft_macs(shape, layer.n_mixed_kernels, route) if family.routes else _family_macs(family, shape, hp)

    def ours(route: str):
        def make():
            layer = build(route=route) if route else build()
            ran = layer.chosen_route() if route else ""
            return Variant(f"{name}[{route}]" if route else name, name, "ours", ran, compare_to, macs(layer, ran),
                           layer, layer.trainable_variables)
        return make

    def reference():
        layer = build()
        return Variant(f"{name}_reference", name, "reference", "", "", macs(layer, "conv"),
                       lambda x: literal(layer, x), layer.trainable_variables)

    specs = [(f"{name}[{route}]", ours(route)) for route in family.routes] or [(name, ours(""))]
    if spec.reference == TF_KERAS:
        specs += _tf_keras_rows(shape, name, notes)
    elif literal is not None:
        specs.append((f"{name}_reference", reference))
    return specs


def build_variants(shape: SpeedShape, only=None, families=None) -> Tuple[List[Variant], List[str]]:
    """Builds the baselines and every timed family's rows for ``shape``.

    A family is timed when it declares ``Family.speed``; it gets one row per route
    (``Family.routes``; ``<family>[<route>]``) or one row (``<family>``), each compared
    with its reference: a literal formulation timed as ``<family>_reference``, or
    tf_keras's LocallyConnected2D rows. See :class:`layers.family.SpeedSpec`.

    Args:
        shape: the input/layer shape.
        only: optional collection of variant names to build (the memory probe builds a few).
        families: optional collection of family names whose rows to build (default: every
            family that declares ``Family.speed``); the conv baselines are always built.

    Returns:
        (variants, notes): notes say which rows were skipped and why.
    """
    import layers

    notes: List[str] = []
    specs = _conv_baselines(shape)
    for name in layers.list_families():
        family = layers.get_family(name)
        if family.speed is not None and (families is None or name in families):
            specs += _family_rows(family, shape, notes)
    wanted = None if only is None else set(only)
    variants = [make() for name, make in specs if wanted is None or name in wanted]
    return variants, notes
