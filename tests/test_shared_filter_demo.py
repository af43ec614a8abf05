"""The lecture's shared-filter demo: one 3×3 filter shared by the two halves of an image,
fitted by plain gradient descent to a target that is twice the image plus noise."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from keras import ops

IMAGE = np.arange(10, 190, 10, dtype="float32").reshape(3, 6)
TARGET = np.array(
    [[22, 44, 62, 81, 103, 122], [143, 161, 181, 200, 221, 241], [260, 280, 301, 323, 344, 360]], "float32"
)


def shared_filter_cost(w):
    """√Σ(target₁ − patch₁⊙w)² + √Σ(target₂ − patch₂⊙w)²: both halves use the same w."""
    cost = 0.0
    for half in (slice(0, 3), slice(3, 6)):
        cost = cost + ops.sqrt(ops.sum(ops.square(TARGET[:, half] - IMAGE[:, half] * w)))
    return cost


def test_image_and_target_are_the_lecture_ones():
    assert IMAGE[0].tolist() == [10, 20, 30, 40, 50, 60]
    assert IMAGE[2, -1] == 180
    assert np.abs(TARGET - 2 * IMAGE).max() <= 5  # "twice the image plus small noise"


def test_gradient_descent_on_shared_filter_converges_to_two():
    w = tf.Variable(np.arange(1, 10, dtype="float32").reshape(3, 3))

    @tf.function
    def step(learning_rate):
        with tf.GradientTape() as tape:
            cost = shared_filter_cost(w)
        w.assign_sub(learning_rate * tape.gradient(cost, w))
        return cost

    start = float(shared_filter_cost(w))
    for _ in range(500):
        step(tf.constant(1e-3))
    end = float(shared_filter_cost(w))

    assert end < start / 20
    np.testing.assert_allclose(w.numpy(), np.full((3, 3), 2.0), atol=0.3)
