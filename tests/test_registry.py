"""The family registry: names, duplicates, unknown names, and what every family declares."""

from __future__ import annotations

import keras
import keras_tuner
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
