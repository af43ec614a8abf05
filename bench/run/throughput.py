"""What each tuned model costs: training and inference speed, latency, MACs and memory.

Speeds are measured on synthetic batches of the run's input shape (speed does not depend
on the pixel values), after a warm-up that traces the compiled step functions, then over
``repeats`` timed repeats; the median is the headline and the min/max the spread. Training
speed is measured on a clone of the model so the caller's weights are left untouched.
"""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import keras
import numpy as np
import pandas as pd
import psutil

import layers
from bench.environment import device
from bench.run.backbone import trainable_parameters
from bench.store import ResultsError, RunDir

# Arguments that the families' ``macs`` take positionally; the rest of a layer's config is
# passed as family hyperparameters (each family ignores what it does not use).
_SHARED_LAYER_ARGS = ("filters", "kernel_size", "strides", "padding")
_NON_HP_CONFIG = ("name", "trainable", "dtype") + _SHARED_LAYER_ARGS


# -- multiply-accumulates ------------------------------------------------------------------------
def layer_macs(layer: keras.layers.Layer, family: Optional[str]) -> int:
    """Multiply-accumulates per image of one layer: a family layer by its family's analytic
    formula, a Dense layer as inputs × units, anything else 0."""
    shape = tuple(int(v) for v in layer.input.shape[1:])
    if family is not None:
        hp = {k: v for k, v in layer.get_config().items() if k not in _NON_HP_CONFIG}
        return int(layers.get_family(family).macs(shape, layer.filters, layer.kernel_size, layer.strides,
                                                  layer.padding, **hp))
    if isinstance(layer, keras.layers.Dense):
        return int(shape[-1]) * int(layer.units)
    return 0


def model_macs(model: keras.Model, family: str) -> int:
    """Multiply-accumulates per image of a built model whose spatial layers are ``family``'s.

    Sums the family's analytic count for each of its layers and inputs × units for every
    Dense layer; normalisation, activations and pooling are not counted (they cost
    O(activations), not O(weights × positions)). Nested models are walked.

    Raises:
        ValueError: the model has no layer of the family and no Dense layer.
    """
    owner_family = layers.get_family(family)
    total, counted = 0, 0
    stack: List[keras.layers.Layer] = list(model.layers)
    while stack:
        layer = stack.pop(0)
        if isinstance(layer, keras.Model):
            stack = list(layer.layers) + stack
            continue
        owner = family if owner_family.owns(layer) else None
        if owner is not None or isinstance(layer, keras.layers.Dense):
            total += layer_macs(layer, owner)
            counted += 1
    if counted == 0:
        raise ValueError(f"model {model.name!r} has no {family} or Dense layer to count MACs of.")
    return total


# -- measuring -------------------------------------------------------------------------------------
class _PeakRSS:
    """Samples the process's resident memory in a background thread; ``peak_mb`` is the max."""

    def __init__(self, interval_s: float = 0.005):
        self.interval_s = interval_s
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(self.interval_s):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20


def _check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}={value!r} is not accepted: give an int >= {minimum}.")
    return int(value)


def _timed(fn: Callable[[], None], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return time.perf_counter() - start


def measure_model(model: keras.Model, family: str, input_shape: Sequence[int], num_classes: int, *, batch: int = 128,
                  repeats: int = 5, warmup: int = 1, steps: int = 4, latency_calls: int = 20,
                  seed: int = 0) -> dict:
    """Measures training and inference speed, batch-1 latency, MACs and peak memory.

    Each repeat times ``steps`` training steps (Adam, sparse categorical cross-entropy) and
    ``steps`` inference calls at ``batch`` images, and ``latency_calls`` single-image
    inference calls. ``warmup`` untimed rounds come first so tracing is not timed.

    Args:
        model: a built Keras model with a softmax output over ``num_classes``.
        family: the family of its spatial layers (for the MAC count).
        input_shape: (H, W, C) of one image.
        num_classes: number of classes (for the synthetic labels).
        batch: images per training / inference step.
        repeats: timed repeats (the issue asks for at least 5; fewer is allowed for tests).
        warmup: untimed rounds before the repeats.
        steps: steps per repeat.
        latency_calls: batch-1 calls per repeat (their mean is one latency sample).
        seed: seed of the synthetic data.

    Returns:
        dict with ``params``, ``macs_per_image``, ``batch``, ``train_img_s``, ``infer_img_s``
        and ``latency_ms_b1`` (medians over repeats), each with ``_min`` / ``_max``
        companions, ``peak_rss_mb`` (peak resident memory of the process while measuring),
        ``repeats`` and ``device``.

    Raises:
        ValueError: a non-positive batch, repeats, steps or latency_calls, or a negative warmup.
    """
    batch = _check_positive_int(batch, "batch")
    repeats = _check_positive_int(repeats, "repeats")
    warmup = _check_positive_int(warmup, "warmup", minimum=0)
    steps = _check_positive_int(steps, "steps")
    latency_calls = _check_positive_int(latency_calls, "latency_calls")
    num_classes = _check_positive_int(num_classes, "num_classes")
    shape = tuple(int(v) for v in input_shape)

    rng = np.random.default_rng(seed)
    x = keras.ops.convert_to_tensor(rng.standard_normal((batch, *shape)).astype("float32"))
    y = keras.ops.convert_to_tensor(rng.integers(0, num_classes, size=batch).astype("int32"))
    x1 = x[:1]

    # Training changes weights and optimizer state: do it on a copy.
    trainer = keras.models.clone_model(model)
    trainer.set_weights(model.get_weights())
    trainer.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    def train_step():
        trainer.train_on_batch(x, y)

    def infer_step():
        model.predict_on_batch(x)

    def latency_step():
        model.predict_on_batch(x1)

    samples: Dict[str, List[float]] = {"train_img_s": [], "infer_img_s": [], "latency_ms_b1": []}
    with _PeakRSS() as memory:
        for _ in range(warmup):
            train_step(), infer_step(), latency_step()
        for _ in range(repeats):
            samples["train_img_s"].append(steps * batch / _timed(train_step, steps))
            samples["infer_img_s"].append(steps * batch / _timed(infer_step, steps))
            samples["latency_ms_b1"].append(1000.0 * _timed(latency_step, latency_calls) / latency_calls)

    result = {"params": trainable_parameters(model), "macs_per_image": model_macs(model, family), "batch": batch}
    for key, values in samples.items():
        result[key] = float(np.median(values))
        result[f"{key}_min"] = float(np.min(values))
        result[f"{key}_max"] = float(np.max(values))
    result.update(peak_rss_mb=memory.peak_mb, repeats=repeats, device=device())
    del trainer
    return result


# -- a whole run ---------------------------------------------------------------------------------
def measure_run(run_dir: Path, *, batch: int = 128, repeats: int = 5,
                progress: Optional[Callable[[str], None]] = None, **measure_kwargs) -> pd.DataFrame:
    """Measures every saved best model of a run and appends the rows to throughput.csv.

    Reads run.json (input shape, classes, run id), final.csv (the completed family × budget
    cells) and models/<family>__<budget>.keras (params: the model's trainable parameters). Cells already in
    throughput.csv are skipped, so an interrupted measurement resumes; each row is appended
    as soon as it is measured.

    Args:
        run_dir: results/<run>.
        batch, repeats: passed to :func:`measure_model`.
        progress: called with one line per cell (e.g. ``print``); None for silence.
        **measure_kwargs: further :func:`measure_model` options (warmup, steps, ...).

    Returns:
        The whole throughput table (earlier rows and new ones), in schema column order.

    Raises:
        ResultsError: run.json, final.csv or a model file is missing (every missing model
            is named before anything is measured).
    """
    run = RunDir(run_dir)
    meta = run.read_run()
    try:
        input_shape = tuple(meta["dataset"]["input_shape"])
        num_classes = int(meta["dataset"]["num_classes"])
    except (KeyError, TypeError) as exc:
        raise ResultsError(f"{str(run.run_json)!r} lacks dataset.input_shape / dataset.num_classes.") from exc
    final = run.require("final", hint="the run has no final evaluation yet")
    cells = final[final["status"] == "completed"].drop_duplicates(["family", "budget"])
    done = run.keys("throughput")
    todo = [c for c in cells.itertuples(index=False) if (c.family, int(c.budget)) not in done]
    missing = [str(run.model_path(c.family, c.budget)) for c in todo if not run.model_path(c.family, c.budget).is_file()]
    if missing:
        raise ResultsError(f"saved models are missing for throughput: {missing}.")

    run_id = meta.get("run_id", run.name)
    for cell in todo:
        path = run.model_path(cell.family, cell.budget)
        if progress:
            progress(f"throughput {cell.family} @ {cell.budget}: {path.name}")
        model = keras.saving.load_model(path, compile=False)
        measured = measure_model(model, cell.family, input_shape, num_classes, batch=batch, repeats=repeats,
                                 **measure_kwargs)
        # params: the trainable parameters of the model measured (measure_model counts them).
        run.append("throughput", [{**measured, "run_id": run_id, "family": cell.family, "budget": int(cell.budget)}])
        del model
        keras.backend.clear_session()
        gc.collect()
    return run.read("throughput")
