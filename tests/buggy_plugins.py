"""Two third-party families with the bugs of issue 23, as installable plugins, and their fixes.

``halfcount``: a Conv2D whose ``param_count`` returns half the true count (everything else
right). ``depthmult_bug``: a separable convolution whose layer raises when built with
``depth_multiplier=1``, its default; its own stream of draws (keyed by its name) gives
``depth_multiplier=1`` at trials 1 and 2 too with run seed 0, so in a cell of 2 trials no trial
can be built. :func:`write_site` writes them (each buggy or fixed) as a
throwaway distribution with real ``wsbench.families`` entry points into a directory to put on
PYTHONPATH, the way ``tests/test_plugins.py`` installs its plugins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

LAYERS_SOURCE = '''
import keras

FIXED = {fixed}


@keras.saving.register_keras_serializable(package="wsbench_buggy_plugins")
class PickySeparableConv2D(keras.layers.SeparableConv2D):
    """A separable convolution that cannot be built with depth_multiplier=1 (the bug)."""

    def build(self, input_shape):
        if self.depth_multiplier == 1 and not FIXED:
            raise ValueError("depth_multiplier=1 is not supported by this layer")
        super().build(input_shape)
'''

FAMILIES_SOURCE = '''
import keras
from layers import Family, register_family
from layers.shapes import conv_output_shape, pair

from wsbench_buggy_layers import FIXED as DEPTHMULT_FIXED, PickySeparableConv2D

HALFCOUNT_FIXED = {halfcount_fixed}


@register_family("halfcount")
class HalfCount(Family):
    description = "test plugin: Conv2D whose param_count returns half the true count" + (" (fixed)" if HALFCOUNT_FIXED else "")

    def make_layer(self, filters, kernel_size, strides, padding, **hp):
        return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, **hp)

    def param_count(self, input_shape, filters, kernel_size, strides=1, padding="valid", **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        true = kh * kw * int(input_shape[-1]) * filters + filters
        return true if HALFCOUNT_FIXED else true // 2

    def macs(self, input_shape, filters, kernel_size, strides=1, padding="valid", **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        return oh * ow * kh * kw * int(input_shape[-1]) * filters


@register_family("depthmult_bug")
class DepthMultBug(Family):
    description = "test plugin: separable convolution that raises with depth_multiplier=1" + (
        " (fixed)" if DEPTHMULT_FIXED else "")
    hard_sharing_hp = None

    def make_layer(self, filters, kernel_size, strides, padding, depth_multiplier=1, **hp):
        return PickySeparableConv2D(filters, kernel_size, strides=strides, padding=padding,
                                    depth_multiplier=depth_multiplier, **hp)

    def hyperparameters(self, hp):
        return {{"depth_multiplier": hp.Choice("depth_multiplier", [1, 2], default=1)}}

    def param_count(self, input_shape, filters, kernel_size, strides=1, padding="valid", depth_multiplier=1, **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        conv_output_shape(input_shape, kernel_size, strides, padding)
        c = int(input_shape[-1])
        return kh * kw * c * depth_multiplier + c * depth_multiplier * filters + filters

    def macs(self, input_shape, filters, kernel_size, strides=1, padding="valid", depth_multiplier=1, **hp):
        kh, kw = pair(kernel_size, "kernel_size")
        oh, ow = conv_output_shape(input_shape, kernel_size, strides, padding)
        c = int(input_shape[-1])
        return oh * ow * (kh * kw * c * depth_multiplier + c * depth_multiplier * filters)
'''

DISTRIBUTION, VERSION, MODULE, LAYERS_MODULE = "wsbench-buggy-plugins", "0.1", "wsbench_buggy_plugins", "wsbench_buggy_layers"
FAMILIES = ("halfcount", "depthmult_bug")


def write_site(site: Path, fixed: Iterable[str] = ()) -> Path:
    """Writes the plugin modules, with the families named in ``fixed`` fixed and the others
    buggy, and their dist-info into ``site``.

    The layer class lives in a module of its own, which registers no family: a test process
    may import it to load the plugin's saved models without adding families to its registry."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{LAYERS_MODULE}.py").write_text(LAYERS_SOURCE.format(fixed="depthmult_bug" in fixed))
    (site / f"{MODULE}.py").write_text(FAMILIES_SOURCE.format(halfcount_fixed="halfcount" in fixed))
    info = site / f"{DISTRIBUTION.replace('-', '_')}-{VERSION}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DISTRIBUTION}\nVersion: {VERSION}\n")
    (info / "entry_points.txt").write_text("[wsbench.families]\n" + "".join(f"{f} = {MODULE}\n" for f in FAMILIES))
    (info / "RECORD").write_text("")
    return site
