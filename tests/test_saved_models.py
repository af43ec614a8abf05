"""Models saved by earlier versions still load, with the same layer configs and predictions.

``tests/fixtures/saved_models_golden.json`` holds, for every committed ``.keras`` model
(the reference run in reference/default-digits/models and the test fixture run), the config
of each wsbench layer and the predictions on a fixed random batch, as the code that saved
them produced. A refactor of ``layers/`` must leave both untouched: a changed config key or
constructor argument breaks loading, a changed computation changes the predictions.

Regenerate (only when a change is *meant* to alter them) with
``python tests/test_saved_models.py --regenerate``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

# Not in the JAX pass of `make test`: loading a .keras file on JAX is covered for every family by
# test_cross_backend.py, and these 25 loads of the reference run cost minutes there.

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "fixtures" / "saved_models_golden.json"
MODEL_DIRS = (ROOT / "reference" / "default-digits" / "models", ROOT / "tests" / "fixtures" / "run_small" / "models")
BATCH = 4


def model_files():
    return sorted(str(p.relative_to(ROOT)) for d in MODEL_DIRS for p in d.glob("*.keras"))


def describe(relpath: str) -> dict:
    """The wsbench layers' configs and the predictions on a seeded batch of one saved model."""
    import keras

    import layers  # noqa: F401  (registers the wsbench layers for loading)

    model = keras.saving.load_model(ROOT / relpath, compile=False)
    x = np.random.default_rng(0).random((BATCH,) + tuple(model.input_shape[1:])).astype("float32")
    configs = {}
    for layer in model.layers:
        if keras.saving.get_registered_name(type(layer)).startswith("wsbench>"):
            configs[layer.name] = {"registered_name": keras.saving.get_registered_name(type(layer)),
                                   "config": json.loads(json.dumps(layer.get_config(), default=list))}
    predictions = np.asarray(model.predict(x, verbose=0), dtype="float64")
    return {"configs": configs, "predictions": predictions.tolist()}


def regenerate() -> None:
    GOLDEN.write_text(json.dumps({path: describe(path) for path in model_files()}, indent=1) + "\n")


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text())


def test_golden_file_covers_every_committed_model(golden):
    assert sorted(golden) == model_files()
    assert any(info["configs"] for info in golden.values())


@pytest.mark.parametrize("relpath", model_files())
def test_saved_model_loads_with_same_configs_and_predictions(relpath, golden):
    expected = golden[relpath]
    got = describe(relpath)
    assert got["configs"] == expected["configs"]
    # The same arithmetic in the same order gives the same bits on one machine; the
    # tolerance only absorbs a different CPU's kernels.
    np.testing.assert_allclose(got["predictions"], expected["predictions"], rtol=0, atol=1e-6)


LOAD_ALONE = """
import sys, keras, layers
layers.load_layer_classes()
for path in sys.argv[1:]:
    keras.saving.load_model(path, compile=False)
print(sorted(m for m in sys.modules if m == "bench" or m.startswith("bench.")))
"""


def test_every_kind_of_saved_model_loads_with_the_layers_package_alone():
    # A fresh process (the test process has imported everything): `layers.load_layer_classes()`
    # makes every class a run's saved models hold known, the circular padding of the study's
    # runs included, without the harness.
    import os
    import subprocess

    paths = [ROOT / "reference" / "default-digits" / "models" / "sisws__3000.keras",
             ROOT / "reference" / "study-shapes-aligned" / "models" / "coordconv__10000.keras"]
    proc = subprocess.run([sys.executable, "-c", LOAD_ALONE, *map(str, paths)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"


if __name__ == "__main__":
    if sys.argv[1:] == ["--regenerate"]:
        sys.path.insert(0, str(ROOT))
        import layers

        layers.load_layer_classes()  # what the tests' conftest does: the saved layers' classes known
        regenerate()
        print(f"wrote {GOLDEN}")
    else:
        sys.exit("usage: python tests/test_saved_models.py --regenerate")
