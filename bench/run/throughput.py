"""What each tuned model costs: training and inference speed, latency, MACs and memory.

Speeds are measured on synthetic batches of the run's input shape (speed does not depend on
the pixel values), every model of the run together, in interleaved rounds as ``wsbench
speed`` times its layers (:func:`bench.measuring.time_interleaved`): after tracing and a
warm-up round, each round times every model's training step (Keras ``train_on_batch``, Adam),
inference call and batch-1 call once, in rotating order, so a burst of load from other
processes hits every model alike. The median over rounds is the headline, the lowest and
highest round the spread. Training is timed on a clone of each model, so the caller's weights
are left untouched. It is the whole model at its budget (its solved widths) that is timed:
families meet at equal parameters, not at equal layer shape as in ``wsbench speed``.

Memory is the TensorFlow allocator's peak of one training step above what was in use before
it, each model in a fresh process (:mod:`bench.run.step_memory`): a figure of the model, not
of what the measuring process did before.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Callable, Dict, Hashable, List, Optional, Sequence, Tuple

import keras
import numpy as np
import pandas as pd

import layers
from bench.environment import device
from bench.measuring import time_interleaved
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
#: Each timing sample repeats a call back to back for about this long (seconds).
MIN_SAMPLE_S = 0.05
#: ``timing`` of a throughput row measured in interleaved rounds (older runs have none).
INTERLEAVED = "interleaved"


def _check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}={value!r} is not accepted: give an int >= {minimum}.")
    return int(value)


def model_steps(model: keras.Model, input_shape: Sequence[int], num_classes: int, batch: int,
                seed: int = 0) -> Dict[str, Callable[[], object]]:
    """The three timed calls of one model: ``train`` (one training step on a clone, Adam and
    sparse categorical cross-entropy), ``infer`` (a batch) and ``latency`` (one image)."""
    rng = np.random.default_rng(seed)
    x = keras.ops.convert_to_tensor(rng.standard_normal((batch, *input_shape)).astype("float32"))
    y = keras.ops.convert_to_tensor(rng.integers(0, num_classes, size=batch).astype("int32"))
    x1 = x[:1]
    trainer = keras.models.clone_model(model)  # training changes weights and optimizer state: a copy
    trainer.set_weights(model.get_weights())
    trainer.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return {"train": lambda: trainer.train_on_batch(x, y), "infer": lambda: model.predict_on_batch(x),
            "latency": lambda: model.predict_on_batch(x1)}


def measure_models(models: Dict[Hashable, Tuple[keras.Model, str]], input_shape: Sequence[int], num_classes: int, *,
                   batch: int = 128, repeats: int = 5, warmup: int = 1, min_sample_s: float = MIN_SAMPLE_S,
                   seed: int = 0, progress: Optional[Callable[[str], None]] = None) -> Dict[Hashable, dict]:
    """Measures training and inference speed, batch-1 latency and MACs of several models,
    timed together in interleaved rounds.

    Args:
        models: key → (a built Keras model with a softmax output over ``num_classes``, the
            family of its spatial layers).
        input_shape: (H, W, C) of one image.
        num_classes: number of classes (for the synthetic labels).
        batch: images per training / inference step.
        repeats: timed rounds (each times every model once).
        warmup: untimed rounds after tracing.
        min_sample_s: a sample repeats a call back to back for about this long.
        seed: seed of the synthetic data.
        progress: called with one line per round, or None.

    Returns:
        key → dict with ``params``, ``macs_per_image``, ``batch``, ``train_img_s``,
        ``infer_img_s`` and ``latency_ms_b1`` (medians over rounds), each with ``_min`` /
        ``_max`` companions (the slowest and fastest round), ``repeats``, ``timing`` and ``device``.

    Raises:
        ValueError: a non-positive batch, repeats, num_classes or min_sample_s, or a negative warmup.
    """
    batch = _check_positive_int(batch, "batch")
    repeats = _check_positive_int(repeats, "repeats")
    warmup = _check_positive_int(warmup, "warmup", minimum=0)
    num_classes = _check_positive_int(num_classes, "num_classes")
    if isinstance(min_sample_s, bool) or not isinstance(min_sample_s, (int, float)) or not min_sample_s > 0:
        raise ValueError(f"min_sample_s={min_sample_s!r} is not accepted: give a positive number of seconds.")
    shape = tuple(int(v) for v in input_shape)
    tasks = {}
    for key, (model, _) in models.items():
        for kind, call in model_steps(model, shape, num_classes, batch, seed).items():
            tasks[(key, kind)] = call
    samples = time_interleaved(tasks, repeats=repeats, warmup=warmup, min_sample_s=min_sample_s, progress=progress)
    out = {}
    for key, (model, family) in models.items():
        result = {"params": trainable_parameters(model), "macs_per_image": model_macs(model, family), "batch": batch}
        rates = {"train_img_s": [batch / s for s in samples[(key, "train")]["wall"]],
                 "infer_img_s": [batch / s for s in samples[(key, "infer")]["wall"]],
                 "latency_ms_b1": [1000.0 * s for s in samples[(key, "latency")]["wall"]]}
        for name, values in rates.items():
            result[name] = float(np.median(values))
            result[f"{name}_min"], result[f"{name}_max"] = float(np.min(values)), float(np.max(values))
        out[key] = dict(result, repeats=repeats, timing=INTERLEAVED, device=device())
    return out


def measure_model(model: keras.Model, family: str, input_shape: Sequence[int], num_classes: int, **options) -> dict:
    """:func:`measure_models` for one model (its rounds then time it alone)."""
    return measure_models({"model": (model, family)}, input_shape, num_classes, **options)["model"]


# -- a whole run ---------------------------------------------------------------------------------
def measure_run(run_dir: Path, *, batch: int = 128, repeats: int = 5, memory: bool = True,
                progress: Optional[Callable[[str], None]] = None, **measure_kwargs) -> pd.DataFrame:
    """Measures every saved best model of a run together and appends their rows to throughput.csv.

    Reads run.json (input shape, classes, run id), final.csv (the completed family × budget
    cells and their parameter counts) and models/<family>__<budget>.keras. Cells already in
    throughput.csv are skipped; the others are timed together in interleaved rounds and
    their rows appended at once, so an interrupted measurement leaves no row and is redone
    whole. Each model's step memory is then measured in a fresh process.

    Args:
        run_dir: results/<run>.
        batch, repeats: passed to :func:`measure_models`.
        memory: measure each model's step memory (:mod:`bench.run.step_memory`).
        progress: called with one-line progress messages (e.g. ``print``); None for silence.
        **measure_kwargs: further :func:`measure_models` options (warmup, min_sample_s, ...).

    Returns:
        The whole throughput table (earlier rows and new ones), in schema column order.

    Raises:
        ResultsError: run.json, final.csv or a model file is missing (every missing model
            is named before anything is measured).
    """
    from bench.run.step_memory import step_memory

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
    if not todo:
        return run.read("throughput")

    layers.load_layer_classes()
    say = progress or (lambda _: None)
    models = {(c.family, int(c.budget)): (keras.saving.load_model(run.model_path(c.family, c.budget), compile=False),
                                          c.family) for c in todo}
    say(f"throughput: timing {len(models)} models together, {repeats} interleaved rounds")
    measured = measure_models(models, input_shape, num_classes, batch=batch, repeats=repeats,
                              progress=lambda line: say(f"  {line}"), **measure_kwargs)
    del models
    keras.backend.clear_session()
    gc.collect()
    memory_mib: Dict[Tuple[str, int], Optional[float]] = {}
    if memory:
        say("throughput: step memory of each model, each in a fresh process")
        memory_mib, note = step_memory({key: run.model_path(*key) for key in measured}, input_shape, num_classes, batch)
        if note:
            say(f"throughput: {note}; the step memory column stays empty")
    run_id = meta.get("run_id", run.name)
    # params: the trainable parameters of the model measured (measure_models counts them).
    run.append("throughput", [{**row, "run_id": run_id, "family": family, "budget": budget,
                               "step_mem_mb": memory_mib.get((family, budget))}
                              for (family, budget), row in measured.items()])
    return run.read("throughput")
