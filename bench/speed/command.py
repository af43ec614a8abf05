"""``wsbench speed``: the layers' training-step and forward cost, side by side with references.

One process times, interleaved, for one layer shape:

- ``conv_K`` (a Conv2D with K filters: the same multiply-adds as a locally connected
  layer) and ``conv_KS`` (K·S filters: what a literal S-kernel SISWS convolution costs);
- every family that declares ``Family.speed``: one row per route it can run
  (``Family.routes``, e.g. ``lrlc[conv]``, ``lrlc[mix]``, ``lrlc[auto]``) or one row, and
  its yardstick: a literal reference formulation (``<family>_reference``; for SISWS one
  K·S convolution, reshape to [B, H, W, K, S], times the similarities, reduce_sum over S)
  or tf_keras's LocallyConnected2D implementations 1, 2, 3 (tf_keras is a dev extra; rows
  are skipped with a note when it is missing). See :mod:`bench.speed.variants`;
- a large float32 matmul, the machine's practical peak in the same run.

A training step is forward + backward with gradients for the input and every trainable
weight, compiled with ``tf.function`` on TensorFlow's ``GradientTape``. The forward pass
is timed alone too. Rows carry the median and interquartile range over the repeats, the
ratios to conv_K and to the row's reference (the median over rounds of the ratio within a
round: interleaving pairs every row with its reference under the same load), achieved
GFLOP/s, and the step's peak memory in MiB (see :mod:`bench.speed.measure` for how it is
measured). Results go to ``results/speed.csv`` (rows of an earlier run with the same shape
are replaced; other shapes are kept; :mod:`bench.speed.table`). The goals the families
declare are checked at the end (:mod:`bench.speed.targets`).

Other processes on the machine add noise: compare ratios from one interleaved run, and
rerun when the interquartile ranges are wide.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional

from bench.backend import BACKENDS  # imports no Keras
from bench.speed.table import CSV_COLUMNS, SHAPE_KEY, build_table, format_table, write_csv  # noqa: F401
from bench.speed.targets import format_targets, targets

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PRESETS: Dict[str, Dict[str, object]] = {
    "default": dict(batch=128, height=28, width=28, channels=8, filters=16, kernel_size=3, strides=1,
                    padding="valid", centroids=4, rank=4),
    "cifar": dict(batch=128, height=32, width=32, channels=3, filters=64, kernel_size=3, strides=1,
                  padding="valid", centroids=4, rank=4),
}
QUICK = dict(batch=8, height=8, width=8, channels=2, filters=4, kernel_size=3, strides=1, padding="valid",
             centroids=4, rank=2)
SHAPE_FLAGS = ("batch", "height", "width", "channels", "filters", "kernel_size", "strides", "centroids", "rank")
DEFAULT_OUT = Path("results") / "speed.csv"
DESCRIPTION = ("Times one training step (forward + gradients for input and weights) and the forward pass of "
               "every family that declares speed rows (each route of a layer with routes) against conv, tf_keras "
               "and literal reference formulations, interleaved in one process, and writes results/speed.csv.")


class SpeedError(ValueError):
    """Bad input to ``wsbench speed``."""


def _positive_int(name: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"{name} {text!r} is not an integer: give a positive integer.") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{name} {text!r} is not accepted: give a positive integer.")
        return value
    return parse


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Registers the ``speed`` subcommand on an ``argparse`` subparsers object."""
    p = subparsers.add_parser("speed", help="time each layer's training step against conv and the reference "
                                            "implementations (writes results/speed.csv)",
                              description=DESCRIPTION)
    _add_arguments(p)
    return p


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="default", choices=sorted(PRESETS),
                   help="default: batch 128, 28x28x8 -> 16 filters; cifar: 32x32x3 -> 64 filters "
                        "(both 3x3 VALID, S=4, rank 4)")
    for flag in SHAPE_FLAGS:
        p.add_argument(f"--{flag.replace('_', '-')}", dest=flag, type=_positive_int(f"--{flag.replace('_', '-')}"),
                       default=None, help="overrides the preset")
    p.add_argument("--padding", choices=["valid", "same"], default=None, help="overrides the preset")
    p.add_argument("--repeats", type=_positive_int("--repeats"), default=None,
                   help="timed interleaved rounds (default 7; 3 with --quick)")
    p.add_argument("--warmup", type=int, default=1, help="untimed rounds after tracing (default 1)")
    p.add_argument("--sample-seconds", type=float, default=None,
                   help="each sample repeats a step back to back for about this long and keeps the mean "
                        "(default 0.25; 0.005 with --quick): longer samples smooth short bursts of load")
    p.add_argument("--threads", type=_positive_int("--threads"), default=None,
                   help="TensorFlow intra-op threads (default: TensorFlow's choice)")
    p.add_argument("--quick", action="store_true", help="tiny shape and few repeats (for tests)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory probe")
    p.add_argument("--matmul-size", type=_positive_int("--matmul-size"), default=None,
                   help="side of the square matmul that measures the peak (default 2048; 256 with --quick)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help=f"CSV to write (default {DEFAULT_OUT})")
    p.add_argument("--backend", choices=BACKENDS, help="tensorflow only: the timings are of TensorFlow's "
                                                       "tf.function and GradientTape (default: Keras's own setting)")


def resolve_shape(args):
    """The ``SpeedShape`` the arguments ask for: preset (or --quick), then explicit flags."""
    from bench.speed.variants import SpeedShape

    if args.preset not in PRESETS:
        raise SpeedError(f"--preset {args.preset!r} is not accepted: use one of {sorted(PRESETS)}.")
    values = dict(QUICK if args.quick else PRESETS[args.preset])
    for flag in SHAPE_FLAGS + ("padding",):
        if getattr(args, flag, None) is not None:
            values[flag] = getattr(args, flag)
    shape = SpeedShape(**values)
    try:
        shape.output_shape
    except ValueError as exc:
        raise SpeedError(f"{exc}") from None
    if shape.kernel_size > max(shape.height, shape.width) and shape.padding == "valid":
        raise SpeedError(f"--kernel-size {shape.kernel_size} does not fit a {shape.height}x{shape.width} input.")
    return shape


def check_backend() -> None:
    """Refuses any Keras backend but TensorFlow, before anything is measured or written.

    The timed steps are ``tf.function``s over ``tf.GradientTape`` and the references are
    TensorFlow code; timing a JAX layer that way would time TensorFlow converting JAX arrays.
    """
    from bench.backend import active

    if active() != "tensorflow":
        raise SpeedError(f"wsbench speed times layers with TensorFlow (tf.function, GradientTape) and runs on the "
                         f"tensorflow backend only, but Keras runs on {active()!r} here: rerun with --backend "
                         f"tensorflow (or KERAS_BACKEND=tensorflow).")


def run(args) -> int:
    """Runs the benchmark for parsed arguments; returns the exit code."""
    check_backend()
    shape = resolve_shape(args)
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 7)
    if args.warmup < 0:
        raise SpeedError(f"--warmup {args.warmup} is not accepted: give 0 or more rounds.")
    sample_s = args.sample_seconds if args.sample_seconds is not None else (0.005 if args.quick else 0.25)
    if not (math.isfinite(sample_s) and 0 <= sample_s <= 60):
        raise SpeedError(f"--sample-seconds {args.sample_seconds} is not accepted: give a number of seconds "
                         f"from 0 to 60.")
    out = Path(args.out)
    if out.exists() and out.is_dir():
        raise SpeedError(f"--out {out} is a directory: give a file path such as {DEFAULT_OUT}.")
    import tensorflow as tf

    from bench.environment import device
    from bench.speed.measure import measure

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    preset = "quick" if args.quick else args.preset
    side = args.matmul_size or (256 if args.quick else 2048)
    print(f"wsbench speed: preset {preset}, batch {shape.batch}, input {shape.height}x{shape.width}x{shape.channels}, "
          f"{shape.filters} filters, {shape.kernel_size}x{shape.kernel_size} {shape.padding.upper()} stride "
          f"{shape.strides}, S={shape.centroids}, rank {shape.rank}, {repeats} repeats, device {device()}",
          flush=True)
    rows, notes, peak = measure(shape, repeats, warmup=args.warmup, threads=args.threads, memory=not args.no_memory,
                                matmul_size=side, min_sample_s=sample_s, log=lambda msg: print(msg, flush=True))
    df = build_table(rows, shape, peak, preset=preset, repeats=repeats, threads=args.threads, sample_s=sample_s)
    print()
    print(format_table(df))
    print(f"\nmatmul peak (float32 {side}^2, same run): {peak:.1f} GFLOP/s. "
          "ms/step = median ± interquartile range of one training step (forward + gradients for input and "
          "weights); x conv_K, x ref = median over rounds of the time ratio within each round; "
          "mem = peak extra MiB of one step.")
    for note in notes:
        print(f"note: {note}")
    print("\ntargets (issue 5 states them for the default preset):")
    print(format_targets(targets(df)))
    write_csv(df, out)
    print(f"\nwrote {out}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m bench.speed.command``: the same as ``wsbench speed``."""
    parser = argparse.ArgumentParser(prog="python -m bench.speed.command", description=DESCRIPTION)
    _add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except ValueError as exc:
        print(f"wsbench speed: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
