"""The same outputs on every installed Keras backend, to float tolerance, both ways.

Keras picks its backend once per process, so the other backend runs in a subprocess
(:mod:`bench.check.backend_worker`), started as soon as this process has saved its models and
running while the other checks run here. A model saved here (the family's layer in a small
model, every weight random) must give the same outputs there, and a model saved there (new
random weights) the same outputs here. The two backends' kernels sum in different orders, so
bit equality is not expected.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

import numpy as np

from bench.check.cases import BATCH, GEOMETRIES, Case, FamilyUnderCheck
from bench.check.outcome import FAIL, OK, SKIP, Outcome, plural
from bench.check.serialization_checks import small_model

RTOL = ATOL = 1e-5
TIMEOUT_S = 900


def other_backends() -> List[str]:
    """The installed Keras backends wsbench supports besides the one this process runs."""
    from bench.backend import BACKENDS, active

    return [name for name in BACKENDS if name != active() and importlib.util.find_spec(name) is not None]


class CrossBackend:
    """Saves each family's models here and starts the other backends' subprocesses; call
    :meth:`outcomes` when the other checks are done.

    Args:
        unders: the families under check.
    """

    def __init__(self, unders: List[FamilyUnderCheck]):
        from bench.backend import active

        self.here, self.others = active(), other_backends()
        self.unders = unders
        self.directory = Path(tempfile.mkdtemp(prefix="wsbench-check-backends-"))
        self.stems: Dict[str, List[str]] = {}
        self.errors: Dict[str, str] = {}
        self.procs: Dict[str, subprocess.Popen] = {}
        if not self.others:
            return
        for under in unders:
            self._save(under)
        root = str(Path(__file__).resolve().parents[2])  # so the subprocess imports this very wsbench
        for other in self.others:
            env = dict(os.environ, KERAS_BACKEND=other, TF_CPP_MIN_LOG_LEVEL="3",
                       PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
            self.procs[other] = subprocess.Popen([sys.executable, "-m", "bench.check.backend_worker",
                                                  str(self.directory)], env=env, stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.PIPE, text=True)

    def _save(self, under: FamilyUnderCheck) -> None:
        """Saves one model of the family: its last configuration that builds (the most unusual
        one: the defaults come first), on a strided 'same' geometry."""
        shape, filters, kernel, strides, padding = GEOMETRIES[1]
        x = np.random.default_rng(7).normal(size=(BATCH,) + shape).astype("float32")
        self.stems[under.name] = []
        error = ""
        for hp in reversed(under.configurations):
            stem = f"{under.name}__0"
            try:
                model = small_model(under.new_layer(Case(shape, filters, kernel, strides, padding, hp)), shape)
                y = np.asarray(model(x))
                model.save(self.directory / f"{stem}.keras")
            except Exception as exc:  # noqa: BLE001 - the builds and save_load checks say more
                error = error or f"saving on {self.here} raised {type(exc).__name__}: {exc}"
                continue
            np.save(self.directory / f"{stem}.x.npy", x)
            np.save(self.directory / f"{stem}.y.npy", y)
            self.stems[under.name].append(stem)
            return
        self.errors[under.name] = error

    def outcomes(self) -> Dict[str, Outcome]:
        """family → its outcome, once the subprocesses are done (the temporary files are removed)."""
        try:
            return {under.name: self._outcome(under, self._results()) for under in self.unders}
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _results(self) -> Dict[str, dict]:
        results = {}
        for other, proc in self.procs.items():
            try:
                _, stderr = proc.communicate(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, stderr = proc.communicate()
            path = self.directory / other / "result.json"
            results[other] = (json.loads(path.read_text()) if proc.returncode == 0 and path.exists() else
                              {"error": f"the {other} process failed (exit {proc.returncode}): "
                                        f"{' '.join((stderr or '').split()[-40:])}"})
        return results

    def _outcome(self, under: FamilyUnderCheck, results: Dict[str, dict]) -> Outcome:
        expected = f"the same outputs on {' and '.join([self.here] + self.others)} (to {RTOL:g}), saved on either"
        if not self.others:
            return Outcome(under.name, "backends", SKIP, expected, f"only {self.here} is installed")
        if under.name in self.errors:
            return Outcome(under.name, "backends", FAIL, expected, self.errors[under.name])
        import keras

        largest = 0.0
        for other, result in results.items():
            if "error" in result or result.get("backend") != other:
                return Outcome(under.name, "backends", FAIL, expected, result.get("error", "another backend ran"))
            for stem in self.stems[under.name]:
                if result["models"].get(stem):
                    return Outcome(under.name, "backends", FAIL, expected, f"on {other}: {result['models'][stem]}")
                x = np.load(self.directory / f"{stem}.x.npy")
                there = self.directory / other
                try:
                    back = np.asarray(keras.saving.load_model(there / f"{stem}.from.keras")(x))
                except Exception as exc:  # noqa: BLE001
                    return Outcome(under.name, "backends", FAIL, expected,
                                   f"loading the {other} model raised {type(exc).__name__}: {exc}")
                for mine, theirs, way in ((np.load(self.directory / f"{stem}.y.npy"), np.load(there / f"{stem}.on.npy"),
                                           f"{self.here}→{other}"), (np.load(there / f"{stem}.from.npy"), back,
                                                                     f"{other}→{self.here}")):
                    gap = float(np.max(np.abs(mine - theirs)))
                    largest = max(largest, gap)
                    if not np.allclose(theirs, mine, rtol=RTOL, atol=ATOL):
                        return Outcome(under.name, "backends", FAIL, expected,
                                       f"{way}: outputs differ by up to {gap:.3g}", f"model {stem}")
        n = len(self.stems[under.name])
        return Outcome(under.name, "backends", OK, expected,
                       f"largest difference {largest:.2g} over {plural(n, 'model')}, both ways")
