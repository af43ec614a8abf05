"""Bad arguments raise ValueError naming the bad value and what would be accepted."""

from __future__ import annotations

import numpy as np
import pytest

import layers
from layers import LowRankLocallyConnected2D, SISWS2D


@pytest.mark.parametrize("filters", [0, -3, 2.5, True])
def test_filters_must_be_positive_int(family, filters):
    with pytest.raises(ValueError) as err:
        family.build(filters, 3, 1, "valid")
    assert f"filters={filters!r}" in str(err.value)
    assert "positive int" in str(err.value)


@pytest.mark.parametrize("padding", ["full", "causal", "", None])
def test_unknown_padding(family, padding):
    with pytest.raises(ValueError) as err:
        family.build(2, 3, 1, padding)
    assert f"padding={padding!r}" in str(err.value)
    assert "'valid'" in str(err.value) and "'same'" in str(err.value)


@pytest.mark.parametrize("kernel_size", [0, (3, 0), (2, 2, 2), "3"])
def test_bad_kernel_size(family, kernel_size):
    with pytest.raises(ValueError) as err:
        family.build(2, kernel_size, 1, "valid")
    assert f"kernel_size={kernel_size!r}" in str(err.value)
    assert "positive int" in str(err.value)


@pytest.mark.parametrize("strides", [0, (1, -1)])
def test_bad_strides(family, strides):
    with pytest.raises(ValueError, match=r"strides=.*positive int"):
        family.build(2, 3, strides, "valid")


@pytest.mark.parametrize("kernel_size", [5, (2, 5)])
def test_kernel_larger_than_valid_input(family, kernel_size):
    """The analytic functions (used by the budget solver) and the layer itself refuse it."""
    accepted = "use a kernel of at most 4, or padding='same'"
    for method in (family.output_shape, family.param_count):
        with pytest.raises(ValueError) as err:
            method((4, 4, 1), 2, kernel_size, 1, "valid")
        assert "kernel size 5" in str(err.value) and "input size 4" in str(err.value)
        assert accepted in str(err.value)

    layer = family.build(2, kernel_size, 1, "valid")
    with pytest.raises(ValueError) as err:
        layer(np.zeros((1, 4, 4, 1), "float32"))
    assert "5" in str(err.value)


def test_same_padding_accepts_kernel_larger_than_input(family):
    layer = family.build(2, 5, 1, "same")
    assert tuple(layer(np.zeros((1, 4, 4, 1), "float32")).shape) == (1, 4, 4, 2)


@pytest.mark.parametrize("family_name", ["sisws", "sisws_trainable"])
@pytest.mark.parametrize("n_centroids", [0, -2, (0, 2), (2, -1), (2, 2, 2), 1.5, True])
def test_bad_centroid_count(family_name, n_centroids):
    family = layers.get_family(family_name)
    for call in (lambda: family.build(2, 3, 1, "valid", n_centroids=n_centroids),
                 lambda: family.param_count((6, 6, 1), 2, 3, 1, "valid", n_centroids=n_centroids)):
        with pytest.raises(ValueError) as err:
            call()
        assert f"n_centroids={n_centroids!r}" in str(err.value)
        assert "positive int" in str(err.value) and "(rows, cols)" in str(err.value)


@pytest.mark.parametrize("rank", [0, -1, 2.0])
def test_bad_rank(rank):
    family = layers.get_family("lrlc")
    for call in (lambda: family.build(2, 3, 1, "valid", rank=rank),
                 lambda: family.param_count((6, 6, 1), 2, 3, 1, "valid", rank=rank)):
        with pytest.raises(ValueError) as err:
            call()
        assert f"rank={rank!r}" in str(err.value) and "positive int" in str(err.value)


def test_bad_lrlc_mixing():
    with pytest.raises(ValueError, match=r"mixing='rows' is not accepted.*'row_col', 'position'"):
        LowRankLocallyConnected2D(2, 3, mixing="rows")


@pytest.mark.parametrize("layer_class", [SISWS2D, LowRankLocallyConnected2D])
def test_bad_route(layer_class):
    with pytest.raises(ValueError, match=r"route='fast' is not accepted.*'auto', 'conv', 'mix'"):
        layer_class(2, 3, route="fast")


@pytest.mark.parametrize("scale", [0, -1.0, float("inf"), "1"])
def test_bad_sisws_scale(scale):
    with pytest.raises(ValueError) as err:
        SISWS2D(2, 3, scale=scale)
    assert f"scale={scale!r}" in str(err.value) and "positive finite number" in str(err.value)
