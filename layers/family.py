"""What a layer family is: a layer factory, its formulas, and the hooks the harness asks.

The harness (``bench/``) never imports a concrete layer class; everything it needs to know
about a family it reads here, so a plugin family gets the same treatment as a built-in one:

- building and counting: :meth:`Family.make_layer`, :meth:`~Family.hyperparameters`,
  :meth:`~Family.param_count`, :meth:`~Family.macs`;
- recognising its layers in a model: :attr:`~Family.layer_type`, :meth:`~Family.owns`;
- pictures (``bench.visualize``, the report's figure 5, ``wsbench train``'s TensorBoard
  images): :attr:`~Family.pictures`, :meth:`~Family.draw_picture`, :meth:`~Family.train_pictures`;
- ``wsbench train``: :attr:`~Family.train_flags`, :meth:`~Family.train_hyperparameters`,
  :attr:`~Family.watched_weights`;
- ``wsbench speed``: :attr:`~Family.routes`, :attr:`~Family.speed`.

Every hook has a default that means "nothing special", so a family declares only what it has.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Tuple, Union

from layers.shapes import check_filters, check_padding, conv_output_shape, pair

if TYPE_CHECKING:  # pragma: no cover - the module imports no Keras: listing families stays light
    import keras


@dataclass(frozen=True)
class TrainFlag:
    """One extra ``wsbench train`` flag a family accepts.

    Attributes:
        flag: the option string, e.g. ``'--centroid-grid'``.
        help: the argparse help text (the harness appends the families that accept it).
        topic: what the flag is about, for the message refusing it with another family:
            ``'centroids'`` gives "… applies only to the families with centroids (…)".
        options: further ``add_argument`` keyword arguments (``nargs``, ``type``, ``metavar``,
            ``action``). Give no ``default``: a flag that was not given reads None (False for
            ``store_true``), which is how the harness tells given flags from the rest.
    """

    flag: str
    help: str
    topic: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dest(self) -> str:
        """The attribute argparse stores the value under ('--n-centroids' → 'n_centroids')."""
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class SpeedTarget:
    """A goal ``wsbench speed`` checks for one of the family's rows: training-step time ratio <= limit.

    Attributes:
        versus: ``'reference'`` (the family's speed reference) or ``'conv_K'`` (a Conv2D with
            the same K filters, the same multiply-adds as a locally connected layer).
        limit: the largest ratio that meets the goal.
        route: the row's route, e.g. ``'auto'`` for row ``<family>[auto]``; ``''`` for a
            family without routes (row ``<family>``).
        aim: a goal aimed at rather than promised; printed with "(aim)".
    """

    versus: str
    limit: float
    route: str = ""
    aim: bool = False


def _no_hyperparameters(shape) -> Dict[str, Any]:
    return {}


@dataclass(frozen=True)
class SpeedSpec:
    """How ``wsbench speed`` times a family.

    Attributes:
        hyperparameters: ``shape -> layer keyword arguments`` for a ``bench.speed`` shape
            (it has ``centroids`` S and ``rank``, besides the convolution's geometry).
        reference: the yardstick the family's rows are compared with: a name in
            ``bench.speed.references.REFERENCES`` (a literal formulation computed from the
            layer's own weights, timed as row ``<family>_reference``; ``'tf_keras'`` means
            tf_keras's LocallyConnected2D implementations, the fastest being the reference),
            a callable ``(built layer, x) -> output`` timed the same way, or None.
        targets: goals checked after the run, printed in registration order.
    """

    hyperparameters: Callable[[Any], Dict[str, Any]] = _no_hyperparameters
    reference: Union[str, Callable, None] = None
    targets: Tuple[SpeedTarget, ...] = ()


class Family:
    """Base class of a layer family. Subclass it and decorate with ``@register_family``.

    Subclasses override :meth:`make_layer` (and usually :meth:`hyperparameters`,
    :meth:`param_count`, :meth:`macs`). ``build`` validates the shared arguments first so
    every family rejects bad input the same way.

    Attributes:
        name: registry name, set by ``register_family``.
        description: one line saying what the family is and how it shares weights.
        source: ``"built-in"`` or ``"plugin <distribution> <version>"``.
        hard_sharing_hp: family keyword arguments that make the layer a plain convolution
            (used by the golden cross-correlation tests); ``None`` if it cannot be.
        layer_type: the class of the layers :meth:`make_layer` returns; None: found by
            building a small layer (see :meth:`owns`). A family may instead name it by
            ``layer_path`` (``'package.module:Class'``), imported the first time it is asked
            for: the built-ins do, so that the registry (names, descriptions, formulas,
            flags) is read without importing Keras.
        pictures: picture kinds of the family's layer, in drawing order; the report draws
            them for the first family layer of the best model (figure 5), ``wsbench train``
            logs them to TensorBoard. ``bench.visualize`` draws the standard kinds
            ``'kernels'`` (the kernels at sampled positions, tinted by dominant centroid
            when the layer has 1 to 12 centroids) and ``'similarity'`` (the centroids over
            their similarity map); other kinds come from :meth:`draw_picture`. Empty: none.
        watched_weights: names of layer weights ``wsbench train`` records before and after
            training (``<name>_initial`` / ``<name>_final`` in train_summary.json) and
            reports how far they moved.
        train_flags: the extra ``wsbench train`` flags the family accepts (:class:`TrainFlag`);
            :meth:`train_hyperparameters` turns their values into layer keyword arguments.
        routes: the routes the layer can run (its ``route=`` argument), e.g.
            ``('conv', 'mix', 'auto')``; ``wsbench speed`` times one row per route. Such a
            layer reports the route it ran with ``chosen_route()`` and the number of kernels
            it mixes per position as ``n_mixed_kernels`` (see :class:`layers.routes.RoutedLayer`).
        speed: how ``wsbench speed`` times the family (:class:`SpeedSpec`); None leaves it out.
        position_aware: whether the family's weights can depend on where they act (no hard
            sharing, or coordinates it can read). The known-answer study expects these
            families to beat ``conv`` where *what is where* decides the class; None: the
            family makes no such claim and the study does not test it.
    """

    name: str = ""
    description: str = ""
    source: str = "built-in"
    hard_sharing_hp: Optional[Dict[str, Any]] = {}
    layer_path: str = ""
    pictures: Tuple[str, ...] = ()
    watched_weights: Tuple[str, ...] = ()
    train_flags: Tuple[TrainFlag, ...] = ()
    routes: Tuple[str, ...] = ()
    speed: Optional[SpeedSpec] = None
    position_aware: Optional[bool] = None

    @property
    def layer_type(self) -> Optional[type]:
        """The class of the family's layers (from ``layer_path``, imported on first use), or None."""
        if not self.layer_path:
            return None
        module, _, name = self.layer_path.partition(":")
        return getattr(importlib.import_module(module), name)

    # -- what subclasses provide -------------------------------------------------------
    def make_layer(self, filters: int, kernel_size, strides, padding: str, **hp) -> "keras.layers.Layer":
        raise NotImplementedError

    def hyperparameters(self, hp) -> Dict[str, Any]:
        """Declares this family's keras-tuner hyperparameters on ``hp`` and returns the
        keyword arguments for :meth:`build`. The default declares none."""
        return {}

    def param_count(self, input_shape, filters: int, kernel_size, strides=1, padding="valid", **hp) -> int:
        """Exact number of *trainable* parameters of the layer on an (H, W, C) input."""
        raise NotImplementedError

    def macs(self, input_shape, filters: int, kernel_size, strides=1, padding="valid", **hp) -> int:
        """Multiply-accumulates per image in the layer's forward pass (analytic)."""
        raise NotImplementedError

    # -- hooks the harness calls (defaults: nothing special) ------------------------------
    def draw_picture(self, kind: str, layer):
        """A ``matplotlib.figure.Figure`` of picture ``kind`` of a built ``layer``, or None to
        let ``bench.visualize`` draw it (it knows 'kernels' and 'similarity')."""
        return None

    def train_hyperparameters(self, flags: Mapping[str, Any]) -> Dict[str, Any]:
        """Layer keyword arguments from the values of this family's :attr:`train_flags`.

        Args:
            flags: ``TrainFlag.dest`` → parsed value (None / False when not given).

        Raises:
            ValueError: a value or combination the layer cannot honour, naming the flag.
        """
        return {}

    def train_pictures(self, flags: Mapping[str, Any]) -> Tuple[str, ...]:
        """Picture kinds ``wsbench train`` logs besides :attr:`pictures`, given the flag values
        (e.g. ``'kernels_color'``, the kernels tinted by dominant centroid, with a legend)."""
        return ()

    def owns(self, layer) -> bool:
        """Whether ``layer`` is one of this family's layers: its class is exactly :attr:`layer_type`.

        Families that share a class (sisws, sisws_trainable) both own its layers. Without a
        ``layer_type`` the class of a small layer built with default arguments is used (a
        family that cannot build one owns nothing).
        """
        kind = self.layer_type if self.layer_type is not None else self._probed_type()
        return kind is not None and type(layer) is kind

    def _probed_type(self) -> Optional[type]:
        if "_probed" not in self.__dict__:
            try:
                self._probed = type(self.build(1, 1, 1, "valid"))
            except Exception:  # noqa: BLE001 - a plugin that needs hyperparameters to build
                self._probed = None
        return self._probed

    # -- shared entry points -------------------------------------------------------------
    def build(self, filters: int, kernel_size, strides=1, padding="valid", **hp) -> "keras.layers.Layer":
        """Returns a new layer of this family, after validating the shared arguments.

        Raises:
            ValueError: filters <= 0, a bad kernel size/stride, or an unknown padding.
        """
        check_filters(filters)
        pair(kernel_size, "kernel_size")
        pair(strides, "strides")
        return self.make_layer(filters, kernel_size, strides, check_padding(padding), **hp)

    def output_shape(self, input_shape, filters: int, kernel_size, strides=1, padding="valid", **hp) -> Tuple[int, int, int]:
        """(out_h, out_w, filters) on an (H, W, C) input."""
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        return oh, ow, filters

    def __repr__(self) -> str:
        return f"<family {self.name!r} ({self.source})>"
