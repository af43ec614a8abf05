"""The other backend's half of the cross-backend check, run as
``KERAS_BACKEND=<other> python -m bench.check.backend_worker DIR``.

For every ``<stem>.keras`` in DIR (saved by :mod:`bench.check.backends` with its input batch
``<stem>.x.npy``) it writes into ``DIR/<backend>/``: ``<stem>.on.npy``, that model's outputs
here; ``<stem>.from.keras`` and ``<stem>.from.npy``, the same model with new random weights
saved here, and its outputs; and ``result.json``: the backend, and per stem '' or the error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main(argv) -> int:
    import keras

    import layers

    layers.load_layer_classes()  # every family's layer class (plugins' too) known to Keras before loading
    directory = Path(argv[0])
    out = directory / keras.backend.backend()
    out.mkdir(exist_ok=True)
    result = {"backend": keras.backend.backend(), "models": {}}
    for path in sorted(directory.glob("*.keras")):
        stem = path.name[: -len(".keras")]
        x = np.load(directory / f"{stem}.x.npy")
        try:
            model = keras.saving.load_model(path)
            np.save(out / f"{stem}.on.npy", np.asarray(model(x)))
            rng = np.random.default_rng(1)
            for w in model.weights:
                if "float" in str(w.dtype):
                    w.assign(rng.normal(scale=0.5, size=w.shape).astype(w.dtype))
            model.save(out / f"{stem}.from.keras")
            np.save(out / f"{stem}.from.npy", np.asarray(model(x)))
            result["models"][stem] = ""
        except Exception as exc:  # noqa: BLE001 - reported by the parent as the family's failure
            result["models"][stem] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    (out / "result.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
