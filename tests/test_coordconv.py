"""CoordConv's two extra channels: y then x, each running linearly over [-1, 1]."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from layers import CoordConv2D

pytestmark = pytest.mark.backends  # also run on JAX by `make test` (see conftest.py)


@pytest.mark.parametrize("channel, expected", [
    (1, np.broadcast_to(np.linspace(-1, 1, 5)[:, None], (5, 7))),   # y runs down the rows
    (2, np.broadcast_to(np.linspace(-1, 1, 7)[None, :], (5, 7))),   # x runs along the columns
])
def test_coordinate_channels(channel, expected):
    layer = CoordConv2D(1, 1)
    x = np.full((2, 5, 7, 1), 3.0, "float32")
    layer.build(x.shape)
    kernel = np.zeros((1, 1, 3, 1), "float32")
    kernel[0, 0, channel, 0] = 1.0  # channel 0 is the input, 1 and 2 the coordinates
    layer.conv.kernel.assign(kernel)
    out = np.asarray(layer(x))[..., 0]
    assert_allclose(out[0], expected, atol=1e-6)
    assert_allclose(out[1], expected, atol=1e-6)


def test_input_channel_is_read_too():
    layer = CoordConv2D(1, 1, use_bias=False)
    x = np.arange(12, dtype="float32").reshape(1, 3, 4, 1)
    layer.build(x.shape)
    layer.conv.kernel.assign(np.array([2.0, 0.0, 0.0], "float32").reshape(1, 1, 3, 1))
    assert_allclose(np.asarray(layer(x)), 2 * x, atol=1e-6)
