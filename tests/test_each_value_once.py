"""The JAX pass's case selection (``--each-value-once``, tests/conftest.py): every value of
every parameter still runs, in as few cases as the greedy cover finds."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

from conftest import each_value_once


def cases(name, **params):
    """Fake collected items of test ``name``: one per combination of ``params`` (last varies fastest)."""
    keys = list(params)
    return [SimpleNamespace(nodeid=f"tests/test_x.py::{name}[{'-'.join(map(str, combo))}]", originalname=name,
                            module=SimpleNamespace(__name__="test_x"),
                            callspec=SimpleNamespace(params=dict(zip(keys, combo))))
            for combo in itertools.product(*params.values())]


def covered(items) -> dict:
    """test → {(parameter, value)} of ``items``."""
    out = {}
    for item in (item for item in items if item.callspec is not None):
        out.setdefault(item.nodeid.split("[")[0], set()).update(item.callspec.params.items())
    return out


def test_every_value_of_every_parameter_is_kept_in_as_few_cases_as_its_largest_parameter_has_values():
    grid = cases("test_grid", family=["conv", "sisws", "lrlc"], padding=["same", "valid"])
    wide = cases("test_wide", family=["conv", "sisws", "lrlc", "coordconv"], stride=[1, 2],
                 route=["conv", "mix", "auto"])
    plain = SimpleNamespace(nodeid="tests/test_x.py::test_plain", originalname="test_plain", callspec=None)
    items = grid + [plain] + wide
    kept, dropped = each_value_once(items)
    assert covered(kept) == covered(grid + wide)
    assert plain in kept
    # In collection order (take each case that brings a new pair) the grid kept 4 cases and the wide test 6.
    assert sum(item in kept for item in grid) == 3
    assert sum(item in kept for item in wide) == 4
    assert sorted(map(id, kept + dropped)) == sorted(map(id, items))
    assert [item for item in items if item in kept] == kept  # collection order is kept


def test_the_selection_is_the_same_every_time():
    """xdist workers collect on their own; each must deselect the same cases."""
    items = cases("test_grid", a=[1, 2, 3, 4], b="xyz", c=[True, False])
    first, _ = each_value_once(items)
    again, _ = each_value_once(list(items))
    assert [item.nodeid for item in first] == [item.nodeid for item in again]
