"""``wsbench speed``: the layers' training-step and forward cost, side by side with references.

One process times, interleaved, for one layer shape:

- ``conv_K`` (a Conv2D with K filters: the same multiply-adds as a locally connected
  layer) and ``conv_KS`` (K·S filters: what the literal SISWS convolution costs);
- ``locally_connected`` (ours) and tf_keras's LocallyConnected2D implementations 1, 2, 3
  (tf_keras is a dev extra; rows are skipped with a note when it is missing);
- ``sisws`` / ``sisws_trainable`` on each route (conv, mix, auto) and their literal
  reference (one K·S convolution, reshape to [B, H, W, K, S], times the similarities,
  reduce_sum over S);
- ``lrlc`` on each route and its literal reference (K·rank convolution, softmax-weighted sum);
- a large float32 matmul, the machine's practical peak in the same run.

A training step is forward + backward with gradients for the input and every trainable
weight, compiled with ``tf.function`` on TensorFlow's ``GradientTape``. The forward pass
is timed alone too. Rows carry the median and interquartile range over the repeats, the
ratios to conv_K and to the row's reference (the median over rounds of the ratio within a
round: interleaving pairs every row with its reference under the same load), achieved
GFLOP/s, and the step's peak memory in MiB (see :mod:`bench.speed.measure` for how it is
measured). Results go to ``results/speed.csv`` (rows of an earlier run with the same shape
are replaced; other shapes are kept).

Other processes on the machine add noise: compare ratios from one interleaved run, and
rerun when the interquartile ranges are wide.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import os
import platform
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Dict, List, Optional

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
               "conv, locally_connected, sisws, sisws_trainable and lrlc against tf_keras and literal reference "
               "formulations, interleaved in one process, and writes results/speed.csv.")

CSV_COLUMNS = [
    "preset", "variant", "family", "kind", "route", "compare_to",
    "batch", "height", "width", "channels", "filters", "kernel_size", "strides", "padding", "centroids", "rank",
    "repeats", "threads", "sample_s",
    "train_ms", "train_iqr_ms", "train_min_ms", "train_cpu_ms", "fwd_ms", "fwd_iqr_ms", "fwd_min_ms", "fwd_cpu_ms",
    "train_img_s", "fwd_img_s", "train_x_conv_k", "train_x_ref", "fwd_x_conv_k", "fwd_x_ref",
    "macs_per_image", "train_gflop_s", "fwd_gflop_s", "matmul_peak_gflop_s", "train_pct_peak",
    "step_mem_mb", "mem_x_ref",
    "device", "python", "tensorflow", "keras", "tf_keras", "numpy", "timestamp",
    "train_rounds_ms", "fwd_rounds_ms",
]
SHAPE_KEY = ["batch", "height", "width", "channels", "filters", "kernel_size", "strides", "padding", "centroids",
             "rank", "threads"]


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


def _versions() -> Dict[str, str]:
    import keras
    import numpy
    import tensorflow

    try:
        import tf_keras
        tfk = tf_keras.__version__
    except ImportError:
        tfk = "absent"
    return {"python": platform.python_version(), "tensorflow": tensorflow.__version__, "keras": keras.__version__,
            "tf_keras": tfk, "numpy": numpy.__version__}


def _device() -> str:
    from bench.environment import device

    return device()


def measure(shape, repeats: int, warmup: int = 1, threads: Optional[int] = None, memory: bool = True,
            matmul_size: int = 2048, min_sample_s: float = 0.02, log=print):
    """Builds, times and memory-probes every variant for ``shape``.

    Returns:
        (rows, notes, peak_gflop_s): one dict per variant with raw measurements.
    """
    import tensorflow as tf

    from bench.speed.measure import compile_steps, matmul_peak_task, probe_memory, summarize, time_interleaved
    from bench.speed.variants import build_variants

    variants, notes = build_variants(shape)
    x = tf.random.normal(shape.input_shape, seed=3)
    steps = {v.name: compile_steps(v, x) for v in variants}
    # Training steps first, then forward passes, each in variant order: a row and its
    # reference run a few seconds apart in every round, which makes their ratio paired.
    tasks = {(name, "train"): train for name, (train, _) in steps.items()}
    tasks.update({(name, "fwd"): forward for name, (_, forward) in steps.items()})
    peak_step, peak_flops = matmul_peak_task(matmul_size)
    tasks[("matmul_peak", "peak")] = peak_step
    log(f"timing {len(variants)} variants x (train, forward) + matmul peak, {repeats} interleaved rounds ...")
    samples = time_interleaved(tasks, repeats=repeats, warmup=warmup, min_sample_s=min_sample_s,
                               progress=lambda msg: log(f"  {msg}"))
    peak_gflops = peak_flops / (summarize(samples[("matmul_peak", "peak")]["wall"])["median"] * 1e-3) / 1e9
    memory_mb: Dict[str, Optional[float]] = {v.name: None for v in variants}
    if memory:
        log("probing the peak memory of one training step per variant (child process) ...")
        memory_mb, note = probe_memory(shape, [v.name for v in variants], threads=threads)
        if note:
            notes.append(note)
    rows = []
    for v in variants:
        tr, fw = samples[(v.name, "train")], samples[(v.name, "fwd")]
        t, f = summarize(tr["wall"]), summarize(fw["wall"])
        rows.append(dict(
            variant=v.name, family=v.family, kind=v.kind, route=v.route, compare_to=v.compare_to,
            train_ms=t["median"], train_iqr_ms=t["iqr"], train_min_ms=t["min"],
            train_cpu_ms=summarize(tr["cpu"])["median"],
            fwd_ms=f["median"], fwd_iqr_ms=f["iqr"], fwd_min_ms=f["min"], fwd_cpu_ms=summarize(fw["cpu"])["median"],
            macs_per_image=v.macs, step_mem_mb=memory_mb.get(v.name),
            train_rounds_ms=format_rounds(tr["wall"]), fwd_rounds_ms=format_rounds(fw["wall"]),
        ))
    return rows, notes, peak_gflops


def format_rounds(seconds) -> str:
    """Per-round times in ms, space-separated in round order (the CSV keeps them for pairing)."""
    return " ".join(f"{v * 1e3:.4f}" for v in seconds)


def paired_ratio(rounds: str, reference_rounds: str) -> float:
    """Median over rounds of (this row's time / the reference's time in the same round).

    Every round runs every variant once, so a pair shares whatever load the machine had at
    that moment; the median of the paired ratios is steadier than a ratio of medians.
    """
    import numpy as np

    a = np.array(rounds.split(), dtype=float)
    b = np.array(reference_rounds.split(), dtype=float)
    return float(np.median(a / b))


def _paired(row, ref, column: str) -> float:
    return paired_ratio(row[column], ref[column]) if ref is not None else float("nan")


def build_table(rows, shape, peak_gflops: float, *, preset: str, repeats: int, threads: Optional[int],
                sample_s: float = 0.0):
    """Adds ratios, throughput and metadata to the raw rows; returns a DataFrame in CSV column order."""
    import numpy as np
    import pandas as pd

    df = pd.DataFrame(rows)
    by_name = df.set_index("variant")
    conv_k = by_name.loc["conv_K"] if "conv_K" in by_name.index else None
    tfk = df[df["kind"] == "tf_keras"]

    out = []
    for _, row in df.iterrows():
        row = row.to_dict()
        ref = fwd_ref = None
        if row["compare_to"] == "tf_keras":
            # The fastest tf_keras implementation, per pass.
            if not tfk.empty:
                ref, fwd_ref = tfk.loc[tfk["train_ms"].idxmin()], tfk.loc[tfk["fwd_ms"].idxmin()]
                row["compare_to"] = ref["variant"]
        elif row["compare_to"] in by_name.index:
            ref = fwd_ref = by_name.loc[row["compare_to"]]
        row["train_x_conv_k"] = _paired(row, conv_k, "train_rounds_ms")
        row["fwd_x_conv_k"] = _paired(row, conv_k, "fwd_rounds_ms")
        row["train_x_ref"] = _paired(row, ref, "train_rounds_ms")
        row["fwd_x_ref"] = _paired(row, fwd_ref, "fwd_rounds_ms")
        mem, ref_mem = row["step_mem_mb"], (ref["step_mem_mb"] if ref is not None else None)
        known = not (pd.isna(mem) or ref_mem is None or pd.isna(ref_mem) or ref_mem == 0)
        row["mem_x_ref"] = mem / ref_mem if known else np.nan
        out.append(row)
    df = pd.DataFrame(out)
    df["train_img_s"] = shape.batch / (df["train_ms"] * 1e-3)
    df["fwd_img_s"] = shape.batch / (df["fwd_ms"] * 1e-3)
    # A training step is counted as three forward passes of multiply-adds (forward, input
    # gradient, weight gradient); one multiply-add is two floating-point operations.
    df["train_gflop_s"] = 3 * 2 * df["macs_per_image"] * shape.batch / (df["train_ms"] * 1e-3) / 1e9
    df["fwd_gflop_s"] = 2 * df["macs_per_image"] * shape.batch / (df["fwd_ms"] * 1e-3) / 1e9
    df["matmul_peak_gflop_s"] = peak_gflops
    df["train_pct_peak"] = 100 * df["train_gflop_s"] / peak_gflops
    for key, value in asdict(shape).items():
        df[key] = value
    df["preset"] = preset
    df["repeats"] = repeats
    df["threads"] = threads if threads else 0
    df["sample_s"] = sample_s
    df["device"] = _device()
    for key, value in _versions().items():
        df[key] = value
    df["timestamp"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    df["step_mem_mb"] = pd.to_numeric(df["step_mem_mb"], errors="coerce")
    return df[CSV_COLUMNS]


def format_table(df) -> str:
    """The printed table: one line per variant."""
    import pandas as pd

    def num(v, fmt):
        return "" if v is None or pd.isna(v) else format(v, fmt)

    shown = pd.DataFrame({
        "variant": df["variant"],
        "route": df["route"],
        "ms/step": [f"{m:.1f} ±{q:.1f}" for m, q in zip(df["train_ms"], df["train_iqr_ms"])],
        "img/s": [num(v, ".0f") for v in df["train_img_s"]],
        "x conv_K": [num(v, ".2f") for v in df["train_x_conv_k"]],
        "x ref": [num(v, ".2f") for v in df["train_x_ref"]],
        "fwd ms": [f"{m:.1f} ±{q:.1f}" for m, q in zip(df["fwd_ms"], df["fwd_iqr_ms"])],
        "fwd x ref": [num(v, ".2f") for v in df["fwd_x_ref"]],
        "GFLOP/s": [num(v, ".1f") for v in df["train_gflop_s"]],
        "% peak": [num(v, ".0f") for v in df["train_pct_peak"]],
        "mem MiB": [num(v, ".1f") for v in df["step_mem_mb"]],
        "mem x ref": [num(v, ".2f") for v in df["mem_x_ref"]],
    })
    return shown.to_string(index=False)


def targets(df) -> List[Dict[str, object]]:
    """The issue's targets, each with its measured ratio and whether it is met."""
    import pandas as pd

    rows = df.set_index("variant")
    checks = []

    def add(what: str, variant: str, column: str, limit: float):
        if variant not in rows.index or pd.isna(rows.loc[variant, column]):
            checks.append(dict(target=what, ratio=float("nan"), limit=limit, met=None))
            return
        ratio = float(rows.loc[variant, column])
        checks.append(dict(target=what, ratio=ratio, limit=limit, met=ratio <= limit))

    lc_ref = rows.loc["locally_connected", "compare_to"] if "locally_connected" in rows.index else "tf_keras"
    add(f"locally_connected train <= 0.2 x fastest tf_keras ({lc_ref})", "locally_connected", "train_x_ref", 0.2)
    add("locally_connected train <= 4 x conv_K", "locally_connected", "train_x_conv_k", 4.0)
    add("sisws[auto] train <= 0.75 x its literal reference", "sisws[auto]", "train_x_ref", 0.75)
    add("sisws[auto] train <= 4 x conv_K", "sisws[auto]", "train_x_conv_k", 4.0)
    add("sisws[auto] train <= 2.5 x conv_K (aim)", "sisws[auto]", "train_x_conv_k", 2.5)
    add("sisws_trainable[auto] train <= 0.75 x its literal reference", "sisws_trainable[auto]", "train_x_ref", 0.75)
    add("lrlc[auto] train <= 0.75 x its literal reference", "lrlc[auto]", "train_x_ref", 0.75)
    routes = df[(df["kind"] == "ours") & df["family"].isin(["sisws", "sisws_trainable", "lrlc"])]
    mem = routes["mem_x_ref"].dropna()
    if len(mem):
        worst = routes.loc[mem.idxmax()]
        checks.append(dict(target=f"every route's step memory <= 2 x its reference (worst: {worst['variant']})",
                           ratio=float(mem.max()), limit=2.0, met=bool(mem.max() <= 2.0)))
    else:
        checks.append(dict(target="every route's step memory <= 2 x its reference", ratio=float("nan"), limit=2.0,
                           met=None))
    return checks


def format_targets(checks) -> str:
    lines = []
    for c in checks:
        state = "not measured" if c["met"] is None else ("met" if c["met"] else "NOT met")
        ratio = "n/a" if math.isnan(c["ratio"]) else f"{c['ratio']:.2f}"
        lines.append(f"  {state:12s} {c['target']}: {ratio}")
    return "\n".join(lines)


def write_csv(df, path: Path) -> None:
    """Writes ``df`` to ``path`` atomically, replacing earlier rows of the same shape and threads."""
    import pandas as pd

    from bench.store.atomic import write_csv_atomic

    path = Path(path)
    if path.exists():
        try:
            old = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            old = None
        if old is not None and set(CSV_COLUMNS) <= set(old.columns):
            key = df[SHAPE_KEY].iloc[0].astype(str).tolist()
            same = old[SHAPE_KEY].astype(str).apply(list, axis=1).apply(lambda k: k == key)
            df = pd.concat([old.loc[~same, CSV_COLUMNS], df], ignore_index=True)
    write_csv_atomic(df[CSV_COLUMNS], path)


def run(args) -> int:
    """Runs the benchmark for parsed arguments; returns the exit code."""
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

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    preset = "quick" if args.quick else args.preset
    side = args.matmul_size or (256 if args.quick else 2048)
    print(f"wsbench speed: preset {preset}, batch {shape.batch}, input {shape.height}x{shape.width}x{shape.channels}, "
          f"{shape.filters} filters, {shape.kernel_size}x{shape.kernel_size} {shape.padding.upper()} stride "
          f"{shape.strides}, S={shape.centroids}, rank {shape.rank}, {repeats} repeats, device {_device()}",
          flush=True)
    rows, notes, peak = measure(shape, repeats, warmup=args.warmup, threads=args.threads, memory=not args.no_memory,
                                matmul_size=side,
                                min_sample_s=sample_s,
                                log=lambda msg: print(msg, flush=True))
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
