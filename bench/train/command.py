"""`wsbench train`: train one model, the way the original SISWS demo did, and look at it.

Trains one network (:mod:`bench.train.archs`) whose spatial layers come from ``--family`` on
one dataset, prints per-epoch progress, the test accuracy and the parameter count, saves the
model as ``.keras`` (and checks it loads back with identical predictions), and logs
TensorBoard scalars (loss and accuracy, train and validation) plus images of the kernels
(:mod:`bench.train.tensorboard_images`), also written as PNGs.

Files under the logdir::

    train/, validation/    TensorBoard scalars (keras.callbacks.TensorBoard)
    images/                TensorBoard image summaries
    png/<layer>/*.png      the same images as PNGs (latest state)
    model.keras            the trained model (unless --save points elsewhere)
    test_predictions.npy   softmax outputs on the test split, from the trained model
    train_summary.json     settings, test accuracy, parameters, and the weights the family
                           watches before/after (e.g. SISWS's centroids_initial / _final)

This module imports TensorFlow only inside :func:`run`, and the subcommand's parser adds the
family flags (which import the families) only when ``train`` is parsed, so building
`wsbench`'s parser stays cheap.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from bench.backend import BACKENDS  # imports no Keras
from bench.train.archs import ARCHS, DEFAULT_FILTERS, check_filters_for_arch, spatial_layer_names
from bench.train.flags import TrainError, add_family_flags, defer_family_flags, family_settings

#: The original demo's layer family.
DEFAULT_FAMILY = "sisws"
VERBOSITY_HELP = ("0: scalars each epoch, images once at the end; 1: images every epoch; "
                  "2: also weight histograms; 3: also images of every spatial layer, not only the first, "
                  "and the graph")

PROG = "wsbench train"
DESCRIPTION = ("Train one model the way the original SISWS demo did and write TensorBoard scalars and kernel / "
               "centroid images (also as PNGs). Family flags come from the families (see `wsbench families`).")

__all__ = ["TrainError", "add_arguments", "add_parser", "check_args", "run", "main"]


# -- command line -------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declares the flags every family shares on ``p`` (the family flags: :mod:`bench.train.flags`)."""
    p.add_argument("--dataset", default="digits",
                   help="digits, faces, shapes-aligned, shapes-anywhere, mnist, fashion_mnist, cifar10 "
                        "or a path to an .npz (default: digits)")
    p.add_argument("--family", default=DEFAULT_FAMILY, help=f"layer family of the spatial layers (default: "
                                                            f"{DEFAULT_FAMILY}; see `wsbench families`)")
    p.add_argument("--arch", default="sisws-demo", choices=ARCHS,
                   help="network: the original SISWS demo, the classic lecture convnet, or the benchmark "
                        "backbone (default: sisws-demo)")
    p.add_argument("--n-filters", nargs="+", type=int, metavar="N",
                   help="filters of each spatial layer (default: " + "; ".join(
                       f"{a} {' '.join(map(str, f))}" for a, f in DEFAULT_FILTERS.items()) + ")")
    p.add_argument("--logdir", help="TensorBoard and output directory "
                                    "(default: runs/train/<dataset>-<family>-<arch>-<time>)")
    p.add_argument("--log-verbosity", type=int, default=0, choices=range(4), metavar="{0,1,2,3}",
                   help=VERBOSITY_HELP + " (default: 0)")
    p.add_argument("--epochs", type=int, default=10, help="training epochs (default: 10)")
    p.add_argument("--batch-size", type=int, default=64, help="batch size (default: 64)")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="Adam learning rate (default: 0.001)")
    p.add_argument("--seed", type=int, default=0, help="seed of the validation split and the weights (default: 0)")
    p.add_argument("--save", help="path of the saved model, ending in .keras (default: <logdir>/model.keras)")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Registers the ``train`` subcommand on an argparse subparsers object.

    The family flags are added when ``train`` is parsed (see
    :class:`bench.train.flags.FamilyFlagsParser`), so building the parser imports no family
    and no TensorFlow.
    """
    p = subparsers.add_parser(
        "train", help="train one model and log its kernels and centroids to TensorBoard", description=DESCRIPTION)
    add_arguments(p)
    # Read by bench.cli before Keras is imported; training, TensorBoard images and --save work on either.
    p.add_argument("--backend", choices=BACKENDS, help="the Keras backend to train with (default: Keras's own "
                                                       "setting, KERAS_BACKEND, else tensorflow)")
    return defer_family_flags(p)


def check_args(args) -> Dict[str, Any]:
    """Validates every flag that needs no data or TensorFlow; returns the resolved settings.

    Raises:
        TrainError: naming the bad value and what would be accepted.
        FamilyError: an unknown family.
    """
    for flag, value, lowest in (("--epochs", args.epochs, 1), ("--batch-size", args.batch_size, 1),
                                ("--seed", args.seed, 0)):
        if value < lowest:
            raise TrainError(f"{flag} {value} is not accepted: give an integer >= {lowest}.")
    if not (math.isfinite(args.learning_rate) and args.learning_rate > 0):
        raise TrainError(f"--learning-rate {args.learning_rate} is not accepted: give a positive number.")
    n_filters = args.n_filters if args.n_filters is not None else DEFAULT_FILTERS[args.arch]
    try:
        n_filters = check_filters_for_arch(args.arch, n_filters)
    except ValueError as exc:
        raise TrainError(str(exc)) from None
    family_hp, pictures = family_settings(args)
    if args.save is not None and not str(args.save).endswith(".keras"):
        raise TrainError(f"--save {args.save!r} is not accepted: the model is saved in Keras format, give a "
                         f"path ending in .keras.")
    logdir = Path(args.logdir) if args.logdir else Path("runs", "train", "-".join(
        [Path(str(args.dataset)).stem, args.family, args.arch, time.strftime("%Y%m%d-%H%M%S")]))
    return {"n_filters": n_filters, "family_hp": family_hp, "pictures": pictures, "logdir": logdir,
            "save": Path(args.save) if args.save else logdir / "model.keras"}


# -- training -----------------------------------------------------------------------------------
def _watched(model, names: List[str], family) -> Dict[str, Dict[str, list]]:
    """Weight name → layer name → value, for the weights the family asks to follow (Family.watched_weights)."""
    from keras import ops

    out: Dict[str, Dict[str, list]] = {}
    for weight in family.watched_weights:
        for name in names:
            value = getattr(model.get_layer(name), weight, None)
            if value is not None:
                out.setdefault(weight, {})[name] = ops.convert_to_numpy(value).tolist()
    return out


def _prepare(args, settings: Dict[str, Any]):
    """Loads the data and builds the compiled model; every bad input raises ValueError."""
    import keras

    from bench.data import load_dataset
    from bench.train.archs import build_model

    data = load_dataset(args.dataset, val_fraction=0.15, seed=args.seed)
    keras.utils.set_random_seed(args.seed)
    model = build_model(args.arch, args.family, data.input_shape, data.num_classes, settings["n_filters"],
                        settings["family_hp"])
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return data, model


def _fit(args, settings: Dict[str, Any], data, model) -> int:
    import keras
    import numpy as np

    from bench.run.backbone import trainable_parameters
    from bench.train.tensorboard_images import KernelImages
    from layers import get_family

    n_filters, family_hp, logdir = settings["n_filters"], settings["family_hp"], settings["logdir"]
    family = get_family(args.family)
    names = spatial_layer_names(args.arch, args.family, n_filters)
    watched = names if args.log_verbosity >= 3 else names[:1]
    sizes = data.sizes()
    print(f"{PROG}: {args.arch} with {args.family} layers {list(n_filters)} {family_hp or ''} on {args.dataset} "
          f"{data.input_shape} ({sizes['train']} train / {sizes['val']} val / {sizes['test']} test images)")
    print(f"logging to {logdir}")
    os.makedirs(logdir, exist_ok=True)
    watched_before = _watched(model, names, family)
    images = KernelImages(logdir / "images", logdir / "png", watched, pictures=settings["pictures"],
                          every_epoch=args.log_verbosity >= 1, family=args.family)
    scalars = keras.callbacks.TensorBoard(log_dir=str(logdir), histogram_freq=1 if args.log_verbosity >= 2 else 0,
                                          write_graph=args.log_verbosity >= 3, update_freq="epoch")
    history = model.fit(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val), epochs=args.epochs,
                        batch_size=args.batch_size, callbacks=[scalars, images], verbose=2)

    test_loss, test_accuracy = model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0)
    trainable = trainable_parameters(model)
    print(f"test accuracy: {test_accuracy:.4f} (loss {test_loss:.4f}, {sizes['test']} images)")
    print(f"parameters: {trainable} trainable, {model.count_params()} total")

    watched_after = _watched(model, names, family)
    for weight, layers_before in watched_before.items():
        for name, before in layers_before.items():
            moved = float(np.abs(np.asarray(watched_after[weight][name]) - np.asarray(before)).max())
            print(f"{name}: {weight} moved by at most {moved:.4f}")

    predictions = model.predict(data.x_test, batch_size=256, verbose=0)
    np.save(logdir / "test_predictions.npy", predictions)
    save = settings["save"]
    os.makedirs(save.parent, exist_ok=True)
    model.save(save)
    reloaded = keras.saving.load_model(save).predict(data.x_test, batch_size=256, verbose=0)
    difference = float(np.abs(reloaded - predictions).max())
    print(f"saved {save}; reloaded it: predictions {'identical' if difference == 0 else f'differ by {difference:.2e}'}")
    summary = {
        "command": [PROG] + sys.argv[1:], "dataset": args.dataset, "family": args.family, "arch": args.arch,
        "n_filters": list(n_filters),
        "family_hp": {k: list(v) if isinstance(v, tuple) else v for k, v in family_hp.items()},
        "epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.learning_rate, "seed": args.seed,
        "split_sizes": sizes, "test_accuracy": float(test_accuracy), "test_loss": float(test_loss),
        "params_trainable": trainable, "params_total": int(model.count_params()),
        "model_path": str(save), "reload_max_difference": difference,
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
        **{f"{weight}_initial": value for weight, value in watched_before.items()},
        **{f"{weight}_final": value for weight, value in watched_after.items()},
        "image_layers": watched, "pngs": images.written_pngs,
    }
    (logdir / "train_summary.json").write_text(json.dumps(summary, indent=1))
    print(f"images: {logdir / 'png'} ({len(images.written_pngs)} PNGs); "
          f"TensorBoard: tensorboard --logdir {logdir}")
    return 0 if difference <= 1e-6 else 1


def run(args) -> int:
    """Runs `wsbench train` with parsed ``args``; returns the exit code (2 for bad input)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        settings = check_args(args)
        data, model = _prepare(args, settings)
    except ValueError as exc:  # TrainError, FamilyError, DatasetError: all name the bad value
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return _fit(args, settings, data, model)


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m bench.train.command [flags]``: parses ``argv`` and runs; returns the exit code."""
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION)
    add_arguments(parser)
    add_family_flags(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
