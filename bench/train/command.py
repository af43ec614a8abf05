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
    train_summary.json     settings, test accuracy, parameters, centroids before/after

This module imports TensorFlow only inside :func:`run`, so building the parser is cheap.
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

from bench.train.archs import ARCHS, DEFAULT_FILTERS, check_filters_for_arch, spatial_layer_names

#: Families whose layers have centroids; the centroid flags apply only to them.
SISWS_FAMILIES = ("sisws", "sisws_trainable")
#: The original layer's colour coding allowed at most this many centroids.
MAX_COLOR_CENTROIDS = 12
#: The original demo's centroid layout when neither --centroid-grid nor --n-centroids is given.
DEFAULT_GRID = (2, 2)
VERBOSITY_HELP = ("0: scalars each epoch, images once at the end; 1: images every epoch; "
                  "2: also weight histograms; 3: also images of every spatial layer, not only the first, "
                  "and the graph")

PROG = "wsbench train"


class TrainError(ValueError):
    """A flag value `wsbench train` cannot use; the message names it and what is accepted."""


# -- command line -------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declares the `train` flags on ``p``."""
    p.add_argument("--dataset", default="digits",
                   help="digits, faces, shapes-aligned, shapes-anywhere, mnist, fashion_mnist, cifar10 "
                        "or a path to an .npz (default: digits)")
    p.add_argument("--family", default="sisws", help="layer family of the spatial layers (default: sisws; "
                                                     "see `wsbench families`)")
    p.add_argument("--arch", default="sisws-demo", choices=ARCHS,
                   help="network: the original SISWS demo, the classic lecture convnet, or the benchmark "
                        "backbone (default: sisws-demo)")
    p.add_argument("--centroid-grid", nargs="+", type=int, metavar="N",
                   help="two numbers R C: initialise the centroids on an R×C grid (default 2 2; SISWS only)")
    p.add_argument("--n-centroids", type=int, metavar="N",
                   help="initialise N centroids uniformly at random instead of on a grid (SISWS only)")
    p.add_argument("--centroids-trainable", action="store_true",
                   help="learn the centroid positions (and bandwidths); always on for sisws_trainable")
    p.add_argument("--n-filters", nargs="+", type=int, metavar="N",
                   help="filters of each spatial layer (default: " + "; ".join(
                       f"{a} {' '.join(map(str, f))}" for a, f in DEFAULT_FILTERS.items()) + ")")
    p.add_argument("--color-coding", action="store_true",
                   help="also draw the kernels tinted by their dominant centroid, with a legend (SISWS, "
                        f"at most {MAX_COLOR_CENTROIDS} centroids)")
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
    """Registers the ``train`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "train", help="train one model and log its kernels and centroids to TensorBoard",
        description="Train one model the way the original SISWS demo did and write TensorBoard scalars "
                    "and kernel / centroid images (also as PNGs).")
    add_arguments(p)
    return p


def family_hyperparameters(args) -> Dict[str, Any]:
    """The family keyword arguments the flags ask for (centroid layout, trainability).

    Raises:
        TrainError: for any flag combination the layer cannot honour.
    """
    centroid_flags = [flag for flag, used in (("--centroid-grid", args.centroid_grid is not None),
                                              ("--n-centroids", args.n_centroids is not None),
                                              ("--centroids-trainable", args.centroids_trainable),
                                              ("--color-coding", args.color_coding)) if used]
    if args.family not in SISWS_FAMILIES:
        if centroid_flags:
            verb = "applies" if len(centroid_flags) == 1 else "apply"
            raise TrainError(f"{', '.join(centroid_flags)} {verb} only to the families with centroids "
                             f"({', '.join(SISWS_FAMILIES)}), not to --family {args.family!r}.")
        return {}
    if args.centroid_grid is not None and args.n_centroids is not None:
        raise TrainError(f"--centroid-grid {' '.join(map(str, args.centroid_grid))} and --n-centroids "
                         f"{args.n_centroids} exclude each other: a grid places the centroids on a grid, "
                         f"--n-centroids places that many at random. Give one of them.")
    if args.centroid_grid is not None:
        grid = args.centroid_grid
        if len(grid) != 2:
            raise TrainError(f"--centroid-grid {' '.join(map(str, grid))} is not accepted: give two numbers, "
                             f"rows and columns (e.g. --centroid-grid 2 2).")
        if min(grid) < 1:
            raise TrainError(f"--centroid-grid {' '.join(map(str, grid))} is not accepted: rows and columns "
                             f"must be positive.")
        n_centroids: Any = (int(grid[0]), int(grid[1]))
    elif args.n_centroids is not None:
        if args.n_centroids < 1:
            raise TrainError(f"--n-centroids {args.n_centroids} is not accepted: give a positive number.")
        n_centroids = int(args.n_centroids)
    else:
        n_centroids = DEFAULT_GRID
    count = n_centroids if isinstance(n_centroids, int) else n_centroids[0] * n_centroids[1]
    if args.color_coding and count > MAX_COLOR_CENTROIDS:
        raise TrainError(f"--color-coding supports at most {MAX_COLOR_CENTROIDS} centroids, but the layout asks "
                         f"for {count} ({_layout_text(n_centroids)}). Use fewer centroids or drop --color-coding.")
    hp: Dict[str, Any] = {"n_centroids": n_centroids}
    if args.centroids_trainable:
        hp["centroids_trainable"] = True
    return hp


def _layout_text(n_centroids) -> str:
    if isinstance(n_centroids, int):
        return f"--n-centroids {n_centroids}"
    return f"--centroid-grid {n_centroids[0]} {n_centroids[1]}"


def check_args(args) -> Dict[str, Any]:
    """Validates every flag that needs no data or TensorFlow; returns the resolved settings.

    Raises:
        TrainError: naming the bad value and what would be accepted.
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
    family_hp = family_hyperparameters(args)
    if args.save is not None and not str(args.save).endswith(".keras"):
        raise TrainError(f"--save {args.save!r} is not accepted: the model is saved in Keras format, give a "
                         f"path ending in .keras.")
    logdir = Path(args.logdir) if args.logdir else Path("runs", "train", "-".join(
        [Path(str(args.dataset)).stem, args.family, args.arch, time.strftime("%Y%m%d-%H%M%S")]))
    return {"n_filters": n_filters, "family_hp": family_hp, "logdir": logdir,
            "save": Path(args.save) if args.save else logdir / "model.keras"}


# -- training -----------------------------------------------------------------------------------
def _centroids(model, names: List[str]) -> Dict[str, list]:
    from keras import ops

    from layers.sisws import SISWS2D

    return {name: ops.convert_to_numpy(model.get_layer(name).centroids).tolist()
            for name in names if isinstance(model.get_layer(name), SISWS2D)}


def _prepare(args, settings: Dict[str, Any]):
    """Loads the data and builds the compiled model; every bad input raises ValueError."""
    import keras

    from bench.data import load_dataset
    from bench.train.archs import build_model
    from layers import get_family

    get_family(args.family)  # unknown family: FamilyError naming the known ones
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

    from bench.train.tensorboard_images import KernelImages

    n_filters, family_hp, logdir = settings["n_filters"], settings["family_hp"], settings["logdir"]
    names = spatial_layer_names(args.arch, args.family, n_filters)
    watched = names if args.log_verbosity >= 3 else names[:1]
    sizes = data.sizes()
    print(f"{PROG}: {args.arch} with {args.family} layers {list(n_filters)} {family_hp or ''} on {args.dataset} "
          f"{data.input_shape} ({sizes['train']} train / {sizes['val']} val / {sizes['test']} test images)")
    print(f"logging to {logdir}")
    os.makedirs(logdir, exist_ok=True)
    centroids_before = _centroids(model, names)
    images = KernelImages(logdir / "images", logdir / "png", watched, color_coding=args.color_coding,
                          every_epoch=args.log_verbosity >= 1)
    scalars = keras.callbacks.TensorBoard(log_dir=str(logdir), histogram_freq=1 if args.log_verbosity >= 2 else 0,
                                          write_graph=args.log_verbosity >= 3, update_freq="epoch")
    history = model.fit(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val), epochs=args.epochs,
                        batch_size=args.batch_size, callbacks=[scalars, images], verbose=2)

    test_loss, test_accuracy = model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0)
    trainable = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    print(f"test accuracy: {test_accuracy:.4f} (loss {test_loss:.4f}, {sizes['test']} images)")
    print(f"parameters: {trainable} trainable, {model.count_params()} total")

    centroids_after = _centroids(model, names)
    for name, before in centroids_before.items():
        moved = float(np.abs(np.asarray(centroids_after[name]) - np.asarray(before)).max())
        print(f"{name}: centroids moved by at most {moved:.4f} (coordinate units, scale "
              f"{model.get_layer(name).scale:g})")

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
        "centroids_initial": centroids_before, "centroids_final": centroids_after,
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
    parser = argparse.ArgumentParser(prog=PROG, description=add_parser.__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
