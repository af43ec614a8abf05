"""bench.run.training: seeds of one configuration trained together as one program must each
give, bit for bit, the numbers they give alone; and a stage's rows carry what they describe."""

from __future__ import annotations

import dataclasses

import keras
import keras_tuner as kt
import numpy as np
import pytest
import tensorflow as tf

from bench.compat import release_tf_graphs
from bench.data import load_dataset
from bench.run.config import BenchConfig
from bench.run.hypermodel import BudgetedHyperModel

pytestmark = pytest.mark.slow  # trains real models

SETTINGS = BenchConfig(steps=12, eval_every=4, batch_size=256)  # the run's protocol: schedule, tf.data, checkpoint


@pytest.fixture(scope="module")
def digits():
    tf.config.experimental.enable_op_determinism()
    return load_dataset("digits")


def trained(hypermodel, hp, seeds, data):
    """(histories, variables) per seed, for ``seeds`` trained as one program."""
    keras.backend.clear_session()
    release_tf_graphs()
    models = hypermodel.build_seeds(hp, list(seeds))
    results = hypermodel.train(models, list(seeds), hp, data.x_train, data.y_train, (data.x_val, data.y_val))
    return [r.history for r in results], [[v.numpy() for v in m.variables] for m in models]


def test_a_seed_trained_with_others_gives_the_numbers_it_gives_alone(family_name, digits):
    """Seed 1 alone, one step per call (how every fit ran before seeds trained together), and
    seed 1 in the middle of three run by the protocol (4 steps per call): identical losses,
    accuracies and final variables; dropout (rate 0.3), shuffling, the learning-rate schedule,
    batch norm and the best-checkpoint restore are all in play."""
    hypermodel = BudgetedHyperModel(family_name, digits.input_shape, digits.num_classes, 3000, SETTINGS)
    assert hypermodel.protocol.steps_per_execution == 4
    hp = kt.HyperParameters()
    hypermodel.build(hp)  # declares the defaults
    hp.values["dropout"] = 0.3
    alone = BudgetedHyperModel(family_name, digits.input_shape, digits.num_classes, 3000, SETTINGS,
                               dataclasses.replace(hypermodel.protocol, steps_per_execution=1, together=1))
    alone_history, alone_vars = trained(alone, hp, [1], digits)
    histories, variables = trained(hypermodel, hp, [2, 1, 0], digits)
    assert histories[1] == alone_history[0]
    for got, want in zip(variables[1], alone_vars[0]):
        np.testing.assert_array_equal(got, want)
    assert histories[0] != alone_history[0]  # another seed is another model: the check can fail
