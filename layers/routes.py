"""Two routes to the same numbers, for layers whose kernel at each position mixes n shared kernels.

SISWS (n = S centroids) and LRLC (n = rank) both compute, at output cell (i, j), a weighted
sum of n kernels. They can run it two ways with identical results:

- ``conv``: one convolution with K·n filters, then the n maps weighted per position and
  summed (~n × a K-filter convolution in multiply-adds);
- ``mix``: mix the n kernels at every position once per batch, then one locally connected
  product (~1× a K-filter convolution, at the efficiency of small batched matmuls).

``auto`` picks by shape with :func:`layers.local_ops.prefer_mix_route`.
"""

from __future__ import annotations

from layers.local_ops import prefer_mix_route
from layers.spatial_layer import SpatialLayer

ROUTES = ("auto", "conv", "mix")


def check_route(route) -> str:
    """Returns ``route`` if it is one of :data:`ROUTES`, else raises ValueError naming them."""
    if route not in ROUTES:
        raise ValueError(f"route={route!r} is not accepted: use one of {list(ROUTES)}.")
    return route


class RoutedLayer(SpatialLayer):
    """A :class:`SpatialLayer` that runs the ``conv`` or the ``mix`` route (see the module doc).

    Args:
        route: 'conv', 'mix' or 'auto'. 'auto' decides by shape when the layer is built (the
            batch size is unknown then); :meth:`chosen_route` says what it decided and
            ``get_config()['route_ran']`` records it.
        **kwargs: as :class:`SpatialLayer`.

    Subclasses provide :attr:`n_mixed_kernels`, a ``kernel`` of shape (kh, kw, c_in, K·n)
    and ``out_hw`` (set in ``build``), and run the route :meth:`chosen_route` names in ``call``.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", route="auto", **kwargs):
        super().__init__(filters, kernel_size, strides, padding, **kwargs)
        self.route = check_route(route)

    @property
    def n_mixed_kernels(self) -> int:
        """n, the number of shared kernels mixed at every position (S centroids, or the rank)."""
        raise NotImplementedError

    def chosen_route(self) -> str:
        """The route ``call`` runs: the configured one, or for 'auto' the faster by shape.

        'auto' takes the mix route unless n = 1 (then the layer is a Conv2D), the input has
        many channels for few kernels (n <= min(4, c_in / 8): e.g. c_in = 16 with n = 2,
        c_in >= 32 with n <= 4), or the per-position kernels would exceed 64 Mi elements.
        The rule assumes training batches of 32 or more; with 16 or fewer, 'conv' is as
        fast or faster. See :func:`layers.local_ops.prefer_mix_route` for the measurements.
        """
        if self.route != "auto":
            return self.route
        mix = prefer_mix_route(self.n_mixed_kernels, int(self.kernel.shape[2]), self.kernel_size, self.out_hw,
                               self.filters)
        return "mix" if mix else "conv"

    def get_config(self):
        config = super().get_config()
        config["route"] = self.route
        if getattr(self, "built", False):
            config["route_ran"] = self.chosen_route()
        return config

    @classmethod
    def from_config(cls, config):
        # route_ran is a record of what ran, not an argument: the layer decides again when built.
        config = dict(config)
        config.pop("route_ran", None)
        return cls(**config)
