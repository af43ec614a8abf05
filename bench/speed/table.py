"""The ``wsbench speed`` table: ratios and throughput from raw timings, printing, and results/speed.csv."""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict
from pathlib import Path
from typing import Optional

CSV_COLUMNS = [
    "backend", "preset", "variant", "family", "kind", "route", "compare_to",
    "batch", "height", "width", "channels", "filters", "kernel_size", "strides", "padding", "centroids", "rank",
    "repeats", "threads", "sample_s",
    "train_ms", "train_iqr_ms", "train_min_ms", "train_cpu_ms", "fwd_ms", "fwd_iqr_ms", "fwd_min_ms", "fwd_cpu_ms",
    "train_img_s", "fwd_img_s", "train_x_conv_k", "train_x_ref", "fwd_x_conv_k", "fwd_x_ref",
    "macs_per_image", "train_gflop_s", "fwd_gflop_s", "matmul_peak_gflop_s", "train_pct_peak",
    "step_mem_mb", "mem_source", "mem_x_ref",
    "device", "python", "tensorflow", "keras", "tf_keras", "jax", "numpy", "timestamp",
    "train_rounds_ms", "fwd_rounds_ms",
]
#: Rows of an earlier run with the same values here are replaced by a new run's rows (so the
#: rows of each backend are kept side by side).
SHAPE_KEY = ["backend", "batch", "height", "width", "channels", "filters", "kernel_size", "strides", "padding",
             "centroids", "rank", "threads"]
#: Columns a speed.csv written before they existed lacks, and what its rows meant: every such
#: run was on TensorFlow, with the allocator's memory figure.
LEGACY_VALUES = {"backend": "tensorflow", "mem_source": "tf_allocator", "jax": ""}


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


def _with_ratios(df):
    """Rows with their reference resolved ('tf_keras': the fastest tf_keras row, per pass) and
    the paired time and memory ratios to it and to conv_K."""
    import numpy as np
    import pandas as pd

    by_name = df.set_index("variant")
    conv_k = by_name.loc["conv_K"] if "conv_K" in by_name.index else None
    tfk = df[df["kind"] == "tf_keras"]
    out = []
    for _, row in df.iterrows():
        row = row.to_dict()
        ref = fwd_ref = None
        if row["compare_to"] == "tf_keras":
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
    return pd.DataFrame(out)


def build_table(rows, shape, peak_gflops: float, *, preset: str, repeats: int, threads: Optional[int],
                sample_s: float = 0.0):
    """Adds ratios, throughput and metadata to the raw rows; returns a DataFrame in CSV column order."""
    import pandas as pd

    from bench.environment import device, keras_backend, library_versions

    df = _with_ratios(pd.DataFrame(rows))
    df["backend"] = keras_backend()
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
    df["device"] = device()
    df["jax"] = ""  # filled below when Keras runs on JAX
    for key, value in library_versions(extra=("tf_keras",)).items():
        if key in CSV_COLUMNS:
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


def write_csv(df, path: Path) -> None:
    """Writes ``df`` to ``path`` atomically, replacing earlier rows of the same backend, shape and
    threads; rows written before the backend was recorded are read as TensorFlow rows."""
    import pandas as pd

    from bench.store.atomic import write_csv_atomic

    path = Path(path)
    if path.exists():
        try:
            old = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            old = None
        if old is not None and "backend" not in old.columns and "step_mem_mb" in old.columns:
            known = old["step_mem_mb"].notna()
            old = old.assign(**{k: v for k, v in LEGACY_VALUES.items() if k not in old.columns})
            old.loc[~known, "mem_source"] = ""
        if old is not None and set(CSV_COLUMNS) <= set(old.columns):
            key = df[SHAPE_KEY].iloc[0].astype(str).tolist()
            same = old[SHAPE_KEY].astype(str).apply(list, axis=1).apply(lambda k: k == key)
            df = pd.concat([old.loc[~same, CSV_COLUMNS], df], ignore_index=True)
    write_csv_atomic(df[CSV_COLUMNS], path)
