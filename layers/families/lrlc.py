"""``lrlc``: low-rank locally connected (Elsayed et al., ICML 2020): ``rank`` basis kernels
mixed per position by learned softmax weights (the layer: :mod:`layers.lrlc`)."""

from __future__ import annotations

from layers.registry import Family, SpeedSpec, SpeedTarget, register_family
from layers.shapes import conv_output_shape, pair

MIXINGS = ("row_col", "position")


def check_rank(rank) -> int:
    if isinstance(rank, bool) or not isinstance(rank, int) or rank <= 0:
        raise ValueError(f"rank={rank!r} is not accepted: give a positive int (the number of basis kernels).")
    return rank


def check_mixing(mixing) -> str:
    if mixing not in MIXINGS:
        raise ValueError(f"mixing={mixing!r} is not accepted: use one of {list(MIXINGS)}.")
    return mixing


@register_family("lrlc")
class LRLCFamily(Family):
    description = "Low-rank locally connected: rank basis kernels mixed by learned per-row/column softmax weights."
    position_aware = True
    hard_sharing_hp = {"rank": 1}
    layer_path = "layers.lrlc:LowRankLocallyConnected2D"
    routes = ("conv", "mix", "auto")
    speed = SpeedSpec(lambda shape: {"rank": shape.rank}, reference="lrlc",
                      targets=(SpeedTarget("reference", 0.75, route="auto"),))

    def make_layer(self, filters, kernel_size, strides, padding, **hp):
        return self.layer_type(filters, kernel_size, strides=strides, padding=padding, **hp)

    def hyperparameters(self, hp):
        return {"rank": hp.Choice("rank", [2, 4, 8]), "mixing": hp.Choice("mixing", list(MIXINGS))}

    def param_count(self, input_shape, filters, kernel_size, strides=1, padding="valid", rank=4,
                    mixing="row_col", use_bias=True, **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        rank, mixing = check_rank(rank), check_mixing(mixing)
        cells = oh + ow if mixing == "row_col" else oh * ow
        return kh * kw * int(input_shape[-1]) * filters * rank + cells * rank + (cells * filters if use_bias else 0)

    def macs(self, input_shape, filters, kernel_size, strides=1, padding="valid", rank=4, **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        return oh * ow * filters * rank * (kh * kw * int(input_shape[-1]) + 1)
