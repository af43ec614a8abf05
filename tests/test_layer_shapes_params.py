"""Output shapes (TensorFlow's rules) and exact trainable-parameter counts of every family."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import layers


# (input H, W, C), kernel, strides, padding: odd/even, square/not, strides above the kernel.
GEOMETRIES = [
    ((7, 9, 2), 3, 1, "valid"),
    ((8, 8, 3), (2, 3), 2, "same"),
    ((5, 6, 1), 1, (1, 2), "valid"),
    ((6, 7, 2), 5, 3, "same"),
    ((9, 5, 1), (4, 2), (3, 2), "valid"),
]

# Family options worth counting separately; a family not listed (a plugin) is tried with {}.
OPTIONS = {
    "conv": [{}, {"use_bias": False}],
    "locally_connected": [{}, {"use_bias": False}],
    "sisws": [
        {}, {"n_centroids": 1}, {"n_centroids": 3, "per_feature": True}, {"n_centroids": (1, 3)},
        {"n_centroids": (2, 2), "per_feature": True}, {"n_centroids": 2, "sigma_trainable": True},
        {"n_centroids": 4, "use_bias": False, "local_normalization": False},
        {"n_centroids": (2, 1), "centroids_trainable": True},
    ],
    "sisws_trainable": [
        {}, {"n_centroids": 3, "per_feature": True}, {"n_centroids": (2, 2), "per_feature": True},
        {"n_centroids": 2, "sigma_trainable": False}, {"n_centroids": (1, 2), "centroids_trainable": False},
        {"n_centroids": 5, "per_feature": True, "use_bias": False},
    ],
    "lrlc": [
        {}, {"rank": 1}, {"rank": 3, "mixing": "position"}, {"rank": 2, "use_bias": False},
        {"rank": 2, "mixing": "position", "use_bias": False},
    ],
    "coordconv": [{}, {"use_bias": False}],
}


def option_cases():
    for name in layers.list_families():
        for opts in OPTIONS.get(name, [{}]):
            for geom in GEOMETRIES:
                yield pytest.param(name, opts, geom, id=f"{name}-{opts}-{geom}")


def built_model(layer, input_shape):
    model = keras.Sequential([keras.Input(input_shape), layer])
    return model


@pytest.mark.parametrize("name, opts, geom", list(option_cases()))
def test_param_count_is_exact(name, opts, geom):
    """The analytic count equals the trainable weights Keras creates (and count_params
    once the non-trainable ones, e.g. fixed SISWS centroids, are added back)."""
    family = layers.get_family(name)
    input_shape, kernel, strides, padding = geom
    filters = 4
    model = built_model(family.build(filters, kernel, strides, padding, **opts), input_shape)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)

    expected = family.param_count(input_shape, filters, kernel, strides, padding, **opts)

    assert isinstance(expected, int)
    assert expected == trainable
    assert model.count_params() == trainable + non_trainable
    if non_trainable == 0:
        assert model.count_params() == expected


def tf_rule(n, k, s, padding):
    """TensorFlow's documented output length, written independently of layers.shapes."""
    return math.ceil(n / s) if padding == "same" else math.ceil((n - k + 1) / s)


@pytest.mark.parametrize("geom", GEOMETRIES, ids=str)
def test_output_shape_follows_tf_rules(family, geom):
    input_shape, kernel, strides, padding = geom
    (kh, kw) = (kernel, kernel) if isinstance(kernel, int) else kernel
    (sh, sw) = (strides, strides) if isinstance(strides, int) else strides
    expected = (tf_rule(input_shape[0], kh, sh, padding), tf_rule(input_shape[1], kw, sw, padding), 3)

    layer = family.build(3, kernel, strides, padding)
    out = layer(np.zeros((2,) + input_shape, "float32"))

    assert tuple(out.shape) == (2,) + expected
    assert tuple(family.output_shape(input_shape, 3, kernel, strides, padding)) == expected
    assert tuple(layer.compute_output_shape((None,) + input_shape)) == (None,) + expected


@pytest.mark.parametrize("padding, expected", [("same", (16, 16, 20)), ("valid", (13, 13, 20))])
def test_32x32_input_8x8_stride_2(family, padding, expected):
    layer = family.build(20, 8, 2, padding)
    out = layer(np.zeros((1, 32, 32, 3), "float32"))
    assert tuple(out.shape[1:]) == expected
    assert tuple(family.output_shape((32, 32, 3), 20, 8, 2, padding)) == expected


@pytest.mark.parametrize("name, params", [("conv", 3_860), ("locally_connected", 756_560)])
def test_lecture_parameter_sharing_example(name, params):
    """34×34×3 input, 20 filters 8×8×3, stride 2, VALID: a 14×14×20 output."""
    family = layers.get_family(name)
    model = built_model(family.build(20, 8, 2, "valid"), (34, 34, 3))
    assert tuple(model.output_shape[1:]) == (14, 14, 20)
    assert model.count_params() == params
    assert family.param_count((34, 34, 3), 20, 8, 2, "valid") == params
