"""Known output shapes and parameter counts from the lecture notes.

Every family's output shapes (TensorFlow's rules) and exact trainable-parameter counts over
a spread of shapes and options are `wsbench check`'s builds, output_shape and param_count
checks (test_family_check.py)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import layers


def built_model(layer, input_shape):
    return keras.Sequential([keras.Input(input_shape), layer])


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
