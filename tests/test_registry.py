"""The family registry: names, duplicates, unknown names, and what every family declares."""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np
import pytest

import layers
from layers.registry import Family, FamilyError, register_family


BUILT_INS = ["conv", "locally_connected", "sisws", "sisws_trainable", "lrlc", "coordconv"]


def test_built_ins_registered_in_order():
    assert layers.list_families()[: len(BUILT_INS)] == BUILT_INS


def test_get_family_returns_named_family(family_name):
    fam = layers.get_family(family_name)
    assert isinstance(fam, Family)
    assert fam.name == family_name
    assert fam.description.strip(), "every family needs a one-line description"
    assert "\n" not in fam.description.strip()


def test_built_ins_are_marked_built_in():
    for name in BUILT_INS:
        assert layers.get_family(name).source == "built-in"


def test_unknown_name_lists_known_families():
    with pytest.raises(ValueError) as err:
        layers.get_family("no_such_family")
    msg = str(err.value)
    assert "'no_such_family'" in msg
    for name in BUILT_INS:
        assert repr(name) in msg


def test_family_error_is_a_value_error():
    assert issubclass(FamilyError, ValueError)


def test_duplicate_name_raises_and_keeps_original():
    before = layers.get_family("conv")

    with pytest.raises(FamilyError, match=r"'conv' is already registered"):

        @register_family("conv")
        class Impostor(Family):  # noqa: F841 - the decorator is what is tested
            pass

    assert layers.get_family("conv") is before
    assert layers.list_families().count("conv") == 1


# A name becomes part of file and directory names (models/, tuner/): no separator, no dot-dot.
@pytest.mark.parametrize("bad_name", ["", None, 3, "a/b", "../x", ".hidden", "sp ace", "-flag"])
def test_bad_family_name_raises(bad_name):
    with pytest.raises(FamilyError, match="not accepted"):
        register_family(bad_name)


def test_non_family_class_is_rejected():
    names_before = layers.list_families()
    with pytest.raises(FamilyError, match="not a Family subclass"):
        register_family("not_a_family_test_only")(dict)
    assert layers.list_families() == names_before


def test_hard_sharing_hp_is_dict_or_none(family):
    assert family.hard_sharing_hp is None or isinstance(family.hard_sharing_hp, dict)


def test_hyperparameters_declared_on_hp_and_buildable(family):
    hp = keras_tuner.HyperParameters()
    kwargs = family.hyperparameters(hp)
    assert isinstance(kwargs, dict)
    layer = family.build(4, 3, 1, "same", **kwargs)
    assert isinstance(layer, keras.layers.Layer)
    out = layer(keras.ops.zeros((1, 8, 8, 2)))
    assert tuple(out.shape) == (1, 8, 8, 4)


# -- the hooks the harness reads ----------------------------------------------------------------
def built_layer(family, **extra):
    hp = family.hyperparameters(keras_tuner.HyperParameters())
    layer = family.build(3, 3, 1, "same", **hp, **extra)
    layer(keras.ops.zeros((1, 7, 6, 2)))
    return layer


def test_family_owns_the_layers_it_builds(family):
    layer = built_layer(family)
    assert family.owns(layer)
    assert family.layer_type is None or type(layer) is family.layer_type
    assert layers.family_of(layer).owns(layer)
    assert not family.owns(keras.layers.Dense(2))


def test_family_of_built_in_layers():
    for name, expected in [("conv", "conv"), ("locally_connected", "locally_connected"), ("lrlc", "lrlc"),
                           ("coordconv", "coordconv"), ("sisws", "sisws"),
                           ("sisws_trainable", "sisws")]:  # one class: the first registered family
        assert layers.family_of(layers.get_family(name).build(2, 3)).name == expected
    assert layers.family_of(keras.layers.Dense(2)) is None
    assert layers.get_family("sisws").owns(layers.get_family("sisws_trainable").build(2, 3))


def test_hook_declarations_are_well_formed(family):
    assert all(isinstance(kind, str) and kind for kind in family.pictures)
    assert len(set(family.pictures)) == len(family.pictures)
    for flag in family.train_flags:
        assert isinstance(flag, layers.TrainFlag) and flag.flag.startswith("--") and flag.help
        assert "default" not in flag.options, "a flag that was not given must read None / False"
    assert set(family.routes) <= {"conv", "mix", "auto"}
    assert family.speed is None or isinstance(family.speed, layers.SpeedSpec)
    for target in (family.speed.targets if family.speed else ()):
        assert isinstance(target, layers.SpeedTarget) and target.versus in ("reference", "conv_K")
        assert target.route in (family.routes or ("",))
        assert target.versus != "reference" or family.speed.reference is not None


def test_train_hyperparameters_without_flags_build_a_layer(family):
    not_given = {flag.dest: False if flag.options.get("action") == "store_true" else None
                 for flag in family.train_flags}
    hp = family.train_hyperparameters(not_given)
    assert isinstance(hp, dict)
    out = family.build(2, 3, 1, "same", **hp)(keras.ops.zeros((1, 6, 6, 1)))
    assert tuple(out.shape) == (1, 6, 6, 2)
    assert isinstance(family.train_pictures(not_given), tuple)


def test_watched_weights_are_weights_of_the_layer(family):
    layer = built_layer(family)
    for name in family.watched_weights:
        assert any(getattr(layer, name) is w for w in layer.weights), name


def test_every_route_gives_the_same_numbers(family, rng):
    if not family.routes:
        assert family.speed is None or all(not t.route for t in family.speed.targets)
        return
    first = built_layer(family, route=family.routes[0])
    x = rng.normal(size=(2, 7, 6, 2)).astype("float32")
    for weight in first.weights:
        weight.assign(rng.normal(scale=0.5, size=weight.shape).astype(weight.dtype))
    for route in family.routes[1:]:
        layer = built_layer(family, route=route)
        layer.set_weights(first.get_weights())
        assert layer.chosen_route() in ("conv", "mix") and layer.n_mixed_kernels >= 1
        np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(first(x)), rtol=1e-5, atol=1e-5)


def test_speed_hyperparameters_build_a_layer_for_a_speed_shape(family):
    from bench.speed.variants import SpeedShape

    if family.speed is None:
        assert not family.routes or family.name not in BUILT_INS  # every built-in with routes is timed
        return
    shape = SpeedShape(batch=2, height=8, width=8, channels=2, filters=3, kernel_size=3, centroids=4, rank=2)
    layer = family.build(3, 3, 1, "valid", **family.speed.hyperparameters(shape))
    assert tuple(layer(keras.ops.zeros(shape.input_shape)).shape) == shape.output_shape
