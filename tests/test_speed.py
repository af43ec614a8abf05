"""``wsbench speed`` end to end on a tiny shape, its CSV, and its bad-input errors.

Speed itself is never asserted: only that every row is measured, well formed and consistent.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import layers
from bench.speed import command as speed
from bench.speed import targets as speed_targets

pytestmark = pytest.mark.slow(seconds=60)  # two real `wsbench speed` processes (TensorFlow, JAX): run early

ROOT = Path(__file__).resolve().parent.parent
SOFT_ROWS = [f"{family}[{route}]" for family in ("sisws", "sisws_trainable", "lrlc") for route in ("conv", "mix", "auto")]
REFERENCE_ROWS = ["sisws_reference", "sisws_trainable_reference", "lrlc_reference"]


def declared_rows():
    """Every row the families' hooks ask for: one per route (or one), and a literal reference row."""
    rows = []
    for name in layers.list_families():
        family = layers.get_family(name)
        if family.speed is None:
            continue
        rows += [f"{name}[{route}]" for route in family.routes] or [name]
        if family.speed.reference not in (None, "tf_keras"):
            rows.append(f"{name}_reference")
    return rows


def tf_keras_available() -> bool:
    try:
        import tf_keras  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("speed") / "speed.csv"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-m", "bench.speed.command", "--quick", "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    return done, out


def test_quick_run_succeeds_and_prints_table(quick_run):
    done, out = quick_run
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.is_file()
    for text in ("ms/step", "x conv_K", "x ref", "GFLOP/s", "mem MiB", "targets", "matmul peak"):
        assert text in done.stdout


def test_quick_csv_is_well_formed(quick_run):
    _, out = quick_run
    df = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert list(df.columns) == speed.CSV_COLUMNS
    expected = ["conv_K", "conv_KS", "locally_connected"] + SOFT_ROWS + REFERENCE_ROWS
    if tf_keras_available():
        expected += ["tf_keras_lc1", "tf_keras_lc2", "tf_keras_lc3"]
    assert sorted(df["variant"]) == sorted(expected)
    assert set(declared_rows()) <= set(df["variant"])  # the rows come from the families' hooks
    assert df["variant"].is_unique
    quick = speed.QUICK
    for key in ("batch", "height", "width", "channels", "filters", "kernel_size", "centroids", "rank"):
        assert (df[key] == quick[key]).all(), key
    assert (df["preset"] == "quick").all()
    assert (df["repeats"] == 3).all()
    assert (df["sample_s"] == 0.005).all()
    for column in ("train_ms", "fwd_ms", "train_min_ms", "fwd_min_ms", "train_img_s", "macs_per_image",
                   "train_gflop_s", "matmul_peak_gflop_s"):
        assert (df[column] > 0).all() and df[column].map(math.isfinite).all(), column
    assert (df["train_iqr_ms"] >= 0).all() and (df["train_min_ms"] <= df["train_ms"] + 1e-9).all()
    assert ((df["train_img_s"] - quick["batch"] / (df["train_ms"] / 1e3)).abs() < 1e-6 * df["train_img_s"]).all()
    for column in ("device", "python", "tensorflow", "keras", "numpy", "timestamp"):
        assert df[column].astype(str).str.len().gt(0).all(), column


def rounds(df, row, column):
    return np.array(df.loc[row, column].split(), dtype=float)


def paired(df, row, ref, column):
    """Median over rounds of row / ref within each round, recomputed from the CSV."""
    return float(np.median(rounds(df, row, column) / rounds(df, ref, column)))


def test_quick_csv_keeps_every_round(quick_run):
    _, out = quick_run
    df = pd.read_csv(out, keep_default_na=False, na_values=[""]).set_index("variant")
    for row in df.index:
        for column, median, low in (("train_rounds_ms", "train_ms", "train_min_ms"), ("fwd_rounds_ms", "fwd_ms",
                                                                                      "fwd_min_ms")):
            values = rounds(df, row, column)
            assert len(values) == df.loc[row, "repeats"]
            assert np.median(values) == pytest.approx(df.loc[row, median], rel=1e-3)
            assert values.min() == pytest.approx(df.loc[row, low], rel=1e-3)


def test_quick_csv_ratios_and_routes(quick_run):
    _, out = quick_run
    df = pd.read_csv(out, keep_default_na=False, na_values=[""]).set_index("variant")
    assert df.loc["conv_K", "train_x_conv_k"] == pytest.approx(1.0)
    assert df.loc["conv_KS", "train_x_conv_k"] == pytest.approx(paired(df, "conv_KS", "conv_K", "train_rounds_ms"),
                                                                rel=1e-3)
    for row in SOFT_ROWS:
        family, route = row[:-1].split("[")
        ref = f"{family}_reference"
        assert df.loc[row, "compare_to"] == ref
        assert df.loc[row, "train_x_ref"] == pytest.approx(paired(df, row, ref, "train_rounds_ms"), rel=1e-3)
        assert df.loc[row, "fwd_x_ref"] == pytest.approx(paired(df, row, ref, "fwd_rounds_ms"), rel=1e-3)
        assert df.loc[row, "route"] == route if route != "auto" else df.loc[row, "route"] in ("conv", "mix")
    for row in REFERENCE_ROWS:
        assert pd.isna(df.loc[row, "compare_to"]) and pd.isna(df.loc[row, "train_x_ref"])
    if tf_keras_available():
        tfk = df[df["kind"] == "tf_keras"]
        fastest = tfk["train_ms"].idxmin()
        assert df.loc["locally_connected", "compare_to"] == fastest
        assert df.loc["locally_connected", "train_x_ref"] == pytest.approx(
            paired(df, "locally_connected", fastest, "train_rounds_ms"), rel=1e-3)


def test_quick_csv_records_step_memory(quick_run):
    _, out = quick_run
    df = pd.read_csv(out).set_index("variant")
    assert df["step_mem_mb"].notna().all()
    assert (df["step_mem_mb"] > 0).all()
    # A step's working memory includes at least its own gradient for the input batch.
    input_mb = math.prod(speed.QUICK[k] for k in ("batch", "height", "width", "channels")) * 4 / 2**20
    assert (df["step_mem_mb"] >= input_mb).all()
    for row in SOFT_ROWS:
        ref = df.loc[row, "compare_to"]
        assert df.loc[row, "mem_x_ref"] == pytest.approx(df.loc[row, "step_mem_mb"] / df.loc[ref, "step_mem_mb"])


def test_write_csv_replaces_rows_of_the_same_shape_only(tmp_path):
    path = tmp_path / "speed.csv"

    def table(batch, variants, value):
        rows = [{c: 0 for c in speed.CSV_COLUMNS} for _ in variants]
        for row, name in zip(rows, variants):
            row.update(variant=name, batch=batch, padding="valid", train_ms=value)
        return pd.DataFrame(rows, columns=speed.CSV_COLUMNS)

    speed.write_csv(table(128, ["conv_K", "lrlc[mix]"], 1.0), path)
    speed.write_csv(table(32, ["conv_K"], 2.0), path)
    speed.write_csv(table(128, ["conv_K"], 3.0), path)
    df = pd.read_csv(path)
    assert list(df.columns) == speed.CSV_COLUMNS
    assert sorted(zip(df["batch"], df["variant"], df["train_ms"])) == [(32, "conv_K", 2.0), (128, "conv_K", 3.0)]
    assert not list(tmp_path.glob(".speed.csv.*"))  # no temporary file left behind


def test_write_csv_keeps_the_rows_of_other_backends(tmp_path):
    path = tmp_path / "speed.csv"

    def table(backend, value):
        row = {c: 0 for c in speed.CSV_COLUMNS}
        row.update(backend=backend, variant="conv_K", padding="valid", train_ms=value)
        return pd.DataFrame([row], columns=speed.CSV_COLUMNS)

    speed.write_csv(table("tensorflow", 1.0), path)
    speed.write_csv(table("jax", 2.0), path)
    speed.write_csv(table("jax", 3.0), path)  # replaces the earlier JAX row only
    df = pd.read_csv(path)
    assert sorted(zip(df["backend"], df["train_ms"])) == [("jax", 3.0), ("tensorflow", 1.0)]


def test_write_csv_reads_a_file_without_backends_as_tensorflow_rows(tmp_path):
    path = tmp_path / "speed.csv"
    old = [c for c in speed.CSV_COLUMNS if c not in ("backend", "mem_source", "jax")]
    pd.DataFrame([{**{c: 0 for c in old}, "variant": "conv_K", "padding": "valid", "step_mem_mb": 1.5}],
                 columns=old).to_csv(path, index=False)
    row = {c: 0 for c in speed.CSV_COLUMNS}
    row.update(backend="jax", variant="conv_K", padding="valid")
    speed.write_csv(pd.DataFrame([row], columns=speed.CSV_COLUMNS), path)
    df = pd.read_csv(path, keep_default_na=False)
    assert list(df.columns) == speed.CSV_COLUMNS
    assert sorted(df["backend"]) == ["jax", "tensorflow"]
    assert df.loc[df["backend"] == "tensorflow", "mem_source"].tolist() == ["tf_allocator"]


@pytest.fixture(scope="module")
def quick_jax_run(tmp_path_factory):
    """``--quick --backend jax`` in a process of its own (Keras runs on TensorFlow in this one)."""
    pytest.importorskip("jax")
    out = tmp_path_factory.mktemp("speed_jax") / "speed.csv"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("KERAS_BACKEND", None)
    done = subprocess.run([sys.executable, "-m", "bench.speed.command", "--quick", "--backend", "jax", "--out",
                           str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return done, out


def test_quick_jax_run_has_a_row_for_every_family_on_jax(quick_jax_run):
    done, out = quick_jax_run
    assert done.returncode == 0, done.stderr[-2000:]
    assert "backend jax" in done.stdout and "ms/step" in done.stdout
    df = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert list(df.columns) == speed.CSV_COLUMNS
    assert (df["backend"] == "jax").all()
    assert sorted(df["variant"]) == sorted(["conv_K", "conv_KS"] + declared_rows())  # no tf_keras rows
    timed = {name for name in layers.list_families() if layers.get_family(name).speed is not None}
    assert timed | {"conv"} == set(df["family"])
    for column in ("train_ms", "fwd_ms", "train_min_ms", "train_img_s", "train_gflop_s", "matmul_peak_gflop_s",
                   "step_mem_mb"):
        assert (df[column] > 0).all() and df[column].map(math.isfinite).all(), column
    assert (df["mem_source"] == "xla_plan").all()
    assert df["jax"].astype(str).str.len().gt(0).all()
    for row in SOFT_ROWS:  # the keras.ops references are timed, and every route is paired with one
        assert math.isfinite(df.set_index("variant").loc[row, "train_x_ref"]), row


@pytest.mark.parametrize("argv, needle", [
    (["--batch", "0"], "--batch"),
    (["--repeats", "-1"], "--repeats"),
    (["--kernel-size", "x"], "--kernel-size"),
    (["--preset", "imagenet"], "--preset"),
])
def test_bad_flags_exit_2_naming_the_flag(argv, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        speed.main(["--quick"] + argv)
    assert exc.value.code == 2
    assert needle in capsys.readouterr().err


def test_kernel_larger_than_input_is_a_clear_error(tmp_path, capsys):
    code = speed.main(["--quick", "--kernel-size", "9", "--out", str(tmp_path / "s.csv")])
    assert code == 2
    err = capsys.readouterr().err
    assert "kernel" in err and "9" in err
    assert not (tmp_path / "s.csv").exists()


def test_out_must_not_be_a_directory(tmp_path, capsys):
    assert speed.main(["--quick", "--out", str(tmp_path)]) == 2
    assert "directory" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-1", "nan", "1000"])
def test_bad_sample_seconds_is_a_clear_error(value, tmp_path, capsys):
    assert speed.main(["--quick", "--sample-seconds", value, "--out", str(tmp_path / "s.csv")]) == 2
    assert "--sample-seconds" in capsys.readouterr().err


def fake_table(ratio: float):
    """A measured table in which every row has the same ratios, as the targets read them."""
    rows = ["conv_K", "tf_keras_lc2"] + declared_rows()
    return pd.DataFrame({
        "variant": rows, "family": [r.split("[")[0].replace("_reference", "") for r in rows],
        "kind": ["ours" if "[" in r or r == "locally_connected" else "reference" for r in rows],
        "compare_to": ["tf_keras_lc2" if r == "locally_connected" else "" for r in rows],
        "train_x_ref": ratio, "train_x_conv_k": ratio, "mem_x_ref": ratio})


def test_targets_are_the_ones_the_families_declare():
    checks = speed_targets.targets(fake_table(0.5))
    declared = [(name, t) for name in layers.list_families() if layers.get_family(name).speed
                for t in layers.get_family(name).speed.targets]
    assert len(checks) == len(declared) + 1  # + the memory goal over every route
    assert [c["limit"] for c in checks[:-1]] == [t.limit for _, t in declared]
    texts = [c["target"] for c in checks]
    assert "locally_connected train <= 0.2 x fastest tf_keras (tf_keras_lc2)" in texts
    assert "sisws[auto] train <= 2.5 x conv_K (aim)" in texts
    assert "lrlc[auto] train <= 0.75 x its literal reference" in texts
    assert [c["met"] for c in checks] == [0.5 <= c["limit"] for c in checks]
    assert all(c["met"] is False for c in speed_targets.targets(fake_table(10.0)))
    assert "not measured" in speed_targets.format_targets(speed_targets.targets(fake_table(0.5).iloc[:1]))
