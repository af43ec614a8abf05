"""A ``.keras`` file saved under one Keras backend loads under the other with equal outputs.

Every family, both directions: this process (the backend `make test` runs, TensorFlow)
saves and loads; one subprocess under the other backend loads this process's files and
saves its own. Outputs must agree to float tolerance (the two backends' kernels sum in
different orders, so bit equality is not expected).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import cross_backend
import layers

HERE = Path(__file__).resolve().parent
OTHER = {"tensorflow": "jax", "jax": "tensorflow"}[keras.backend.backend()]
TOL = dict(rtol=1e-5, atol=1e-5)

pytestmark = pytest.mark.slow(seconds=40)


def other_backend(action: str, directory: Path) -> None:
    env = dict(os.environ, KERAS_BACKEND=OTHER, TF_CPP_MIN_LOG_LEVEL="3", WSBENCH_DISABLE_PLUGINS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, str(HERE / "cross_backend.py"), action, str(directory)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # The subprocess really ran the other backend (the point of the test).
    assert json.loads((directory / f"{action}.json").read_text()) == {"backend": OTHER}


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    """here/: saved in this process, loaded by the other backend; there/: the reverse."""
    here, there = tmp_path_factory.mktemp("here"), tmp_path_factory.mktemp("there")
    cross_backend.save(here)
    other_backend("load", here)
    other_backend("save", there)
    cross_backend.load(there)
    return here, there


def test_every_family_was_saved_both_ways(dirs):
    for directory in dirs:
        assert sorted(p.stem for p in directory.glob("*.keras")) == sorted(layers.list_families())


@pytest.mark.parametrize("family_name", layers.list_families())
@pytest.mark.parametrize("direction", [f"{keras.backend.backend()}->{OTHER}", f"{OTHER}->{keras.backend.backend()}"])
def test_loaded_model_predicts_what_the_saved_one_did(dirs, direction, family_name):
    directory = dirs[0] if direction.startswith(keras.backend.backend()) else dirs[1]
    saved = np.load(directory / f"{family_name}.npy")
    loaded = np.load(directory / f"{family_name}.loaded.npy")
    assert saved.shape == (4, 2) and np.abs(saved).max() > 0
    np.testing.assert_allclose(loaded, saved, **TOL)
