"""The ``keras.ops`` ports of the literal references (the yardsticks of ``wsbench speed --backend
jax``) compute what the TensorFlow originals compute: the same outputs and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import layers
from bench.speed.command import QUICK
from bench.speed.ops_references import OPS_REFERENCES
from bench.speed.references import REFERENCES, reference_function
from bench.speed.variants import SpeedShape

SHAPE = SpeedShape(**QUICK)
#: Every reference, with a family whose built layer it reads.
CASES = [("sisws", "sisws"), ("sisws", "sisws_trainable"), ("lrlc", "lrlc"),
         ("locally_connected", "locally_connected")]


def built_layer(name: str):
    family = layers.get_family(name)
    hp = dict(family.speed.hyperparameters(SHAPE))
    layer = family.build(SHAPE.filters, SHAPE.kernel_size, SHAPE.strides, SHAPE.padding, **hp)
    layer.build(SHAPE.input_shape)
    for v in layer.trainable_variables:  # away from the initial values, so every term matters
        v.assign(v + tf.random.stateless_normal(v.shape, seed=(1, 2)) * 0.1)
    return layer


def test_every_reference_has_a_port():
    assert set(OPS_REFERENCES) == set(REFERENCES)
    assert reference_function("lrlc", "lrlc", "jax") is OPS_REFERENCES["lrlc"]
    assert reference_function("lrlc", "lrlc") is REFERENCES["lrlc"]


@pytest.mark.parametrize("reference, family", CASES)
def test_port_gives_the_original_outputs_and_gradients(reference, family):
    layer = built_layer(family)
    x = tf.random.stateless_normal(SHAPE.input_shape, seed=(3, 4))
    upstream = tf.random.stateless_normal(SHAPE.output_shape, seed=(5, 6))
    results = []
    for fn in (REFERENCES[reference], OPS_REFERENCES[reference]):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = fn(layer, x)
            loss = tf.reduce_sum(out * upstream)
        grads = tape.gradient(loss, [x, *layer.trainable_variables])
        results.append((out, grads))
    (out_tf, grads_tf), (out_ops, grads_ops) = results
    np.testing.assert_allclose(out_ops, out_tf, rtol=1e-5, atol=1e-5)
    for g_ops, g_tf in zip(grads_ops, grads_tf):
        assert (g_ops is None) == (g_tf is None)
        if g_tf is not None:
            np.testing.assert_allclose(tf.convert_to_tensor(g_ops), tf.convert_to_tensor(g_tf), rtol=1e-4, atol=1e-5)
