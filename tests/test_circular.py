"""Circular padding: equal to numpy's wrap padding, and it makes convolution + global
average pooling exactly blind to where things are, while position-aware families still see it."""

from __future__ import annotations

import numpy as np
import pytest

from bench.run.backbone import build_backbone
from layers.circular import CircularPad2D
from layers import get_family, list_families

pytestmark = pytest.mark.backends  # the padding and the invariance hold on every Keras backend


@pytest.mark.parametrize("pad", [0, 1, 2, 3])
def test_circular_padding_equals_numpy_wrap_padding(pad):
    x = np.random.default_rng(pad).normal(size=(2, 5, 4, 3)).astype("float32")
    expected = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="wrap")
    out = np.asarray(CircularPad2D(pad)(x))
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("pad", [-1, 1.5, True, "2"])
def test_a_bad_pad_is_refused_naming_it(pad):
    with pytest.raises(ValueError, match="pad="):
        CircularPad2D(pad)


def _random_weights(model):
    """Every trainable weight drawn at random: some families start out equal to a convolution
    (lrlc's position-wise mixing is uniform at initialisation), and what is tested is what the
    architecture can express, not where it starts."""
    rng = np.random.default_rng(1)
    for w in model.trainable_weights:
        w.assign(rng.normal(scale=0.5, size=tuple(w.shape)).astype("float32"))
    return model


def _shifted_outputs(family: str, kernel_size: int, padding: str = "circular"):
    """The backbone's outputs (in inference mode) for images and the same images rolled
    sideways by 8 pixels: a whole number of cells of both 2×2 poolings, so pooling cannot tell."""
    x = np.random.default_rng(0).uniform(size=(4, 16, 16, 1)).astype("float32")
    model = _random_weights(build_backbone(family, (16, 16, 1), 5, 4, depth=2, kernel_size=kernel_size,
                                           padding=padding))
    return np.asarray(model(x, training=False)), np.asarray(model(np.roll(x, 8, axis=2), training=False))


@pytest.mark.parametrize("kernel_size", [3, 5])
def test_conv_with_circular_padding_and_gap_cannot_tell_where(kernel_size):
    out, rolled = _shifted_outputs("conv", kernel_size)
    np.testing.assert_allclose(rolled, out, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("family", [f for f in list_families() if get_family(f).position_aware])
def test_position_aware_families_still_tell_where_with_circular_padding(family):
    out, rolled = _shifted_outputs(family, 3)
    assert np.max(np.abs(rolled - out)) > 1e-4


def test_conv_with_zero_padding_tells_where_through_the_border():
    """Why the study pads circularly: with zeros the same shift changes conv's output."""
    out, rolled = _shifted_outputs("conv", 3, padding="same")
    assert np.max(np.abs(rolled - out)) > 1e-4


@pytest.mark.parametrize("kernel_size,depth,match", [(4, 2, "odd size"), (7, 3, "more than once")])
def test_circular_padding_refuses_kernels_it_cannot_centre_or_wrap(kernel_size, depth, match):
    with pytest.raises(ValueError, match=match):
        build_backbone("conv", (8, 8, 1), 3, 2, depth=depth, kernel_size=kernel_size, padding="circular")
