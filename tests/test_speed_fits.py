"""``wsbench speed --fits`` end to end with 20-step fits, its table on made-up fits, and its flags.

Speed itself is never asserted: only that each backend trained in its own process and every
fit is recorded, well formed and summarised consistently.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench.speed import command as speed
from bench.speed import fits
from bench.speed.fits_table import format_summary, summarize

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quick_fits(tmp_path_factory):
    pytest.importorskip("jax")
    out = tmp_path_factory.mktemp("fits") / "fits.csv"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-m", "bench.speed.command", "--fits", "--quick", "--families", "conv",
                           "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return done, out


@pytest.mark.slow(seconds=60)
def test_quick_fits_time_both_backends_side_by_side(quick_fits):
    done, out = quick_fits
    assert done.returncode == 0, done.stderr[-2000:]
    for text in ("TF fits/min", "JAX fits/min", "JAX/TF", "alone s/seed", "together s/seed", "speed-up",
                 f"wrote {out}"):
        assert text in done.stdout
    df = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert list(df.columns) == fits.COLUMNS
    # 2 seeds by each path on each backend, in processes of their own: alone one program each, together one.
    assert sorted(df["backend"]) == ["jax"] * 4 + ["tensorflow"] * 4
    for backend, rows in df.groupby("backend"):
        assert sorted(rows["path"]) == ["alone", "alone", "together", "together"], backend
        assert rows.loc[rows["path"] == "alone", "seeds_per_program"].tolist() == [1, 1]
        assert rows.loc[rows["path"] == "together", "seeds_per_program"].tolist() == [2, 2]
        assert (rows.loc[rows["path"] == "alone", "steps_per_execution"] == 1).all()
        assert sorted(rows["seed"]) == [0, 0, 1, 1]
    assert df["run_id"].nunique() == 1 and sorted(set(df["position"])) == [1, 2]
    assert (df["family"] == "conv").all() and (df["budget"] == 10000).all() and (df["status"] == "completed").all()
    assert (df["steps"] == 20).all() and (df["steps_run"] == 20).all() and (df["batch_size"] == 128).all()
    for column in ("fit_s", "fits_per_min", "build_s", "train_s", "first_epoch_s", "val_accuracy"):
        assert df[column].map(math.isfinite).all() and (df[column] > 0).all(), column
    assert ((df["fits_per_min"] - 60 / df["fit_s"]).abs() < 1e-9 * df["fits_per_min"]).all()
    assert ((df["build_s"] + df["train_s"] - df["fit_s"]).abs() < 1e-6).all()
    assert (df["threads"] == 1).all()
    assert (df.loc[df["backend"] == "jax", "thread_env"] == 1).all()  # JAX limited to one thread
    assert df.loc[df["backend"] == "jax", "jax"].astype(str).str.len().gt(0).all()
    assert df["params"].between(9500, 10500).all()  # the same budgeted model on both


def made_up(times):
    """Fit rows: times[(backend, family, repeat)] = fit seconds (steady = half of it)."""
    rows = [dict(backend=b, family=f, budget=10000, repeat=r, status="completed", fit_s=s, steady_fit_s=s / 2,
                 val_accuracy=0.9, converged=True) for (b, f, r), s in times.items()]
    return pd.DataFrame(rows).reindex(columns=fits.COLUMNS)


def test_summary_ratio_is_jax_fits_per_minute_over_tf_paired_by_repeat():
    df = made_up({("tensorflow", "conv", 1): 10.0, ("jax", "conv", 1): 5.0,
                  ("tensorflow", "conv", 2): 30.0, ("jax", "conv", 2): 10.0,
                  ("tensorflow", "conv", 3): 20.0, ("jax", "conv", 3): 5.0,
                  ("tensorflow", "lrlc", 1): 8.0, ("jax", "lrlc", 1): 16.0})
    summary = summarize(df, ["tensorflow", "jax"]).set_index("family")
    assert summary.loc["conv", "JAX/TF"] == pytest.approx(3.0)  # median of 2, 3, 4
    assert summary.loc["conv", "tensorflow:s/fit"] == pytest.approx(20.0)
    assert summary.loc["conv", "tensorflow:fits/min"] == pytest.approx(3.0)
    assert summary.loc["conv", "jax:steady fits/min"] == pytest.approx(60 / 2.5)
    assert summary.loc["lrlc", "JAX/TF"] == pytest.approx(0.5)
    # Together only over repeat 1, the only one both families have: (10 + 8) / (5 + 16).
    assert summary.loc["all 2 (per fit)", "JAX/TF"] == pytest.approx(18 / 21)
    assert summary.loc["all 2 (per fit)", "jax:s/fit"] == pytest.approx(21 / 2)
    assert "JAX/TF" in format_summary(summarize(df, ["tensorflow", "jax"]))


def test_summary_leaves_a_failed_fit_out_of_the_ratio():
    df = made_up({("tensorflow", "conv", 1): 10.0, ("jax", "conv", 1): 5.0})
    df.loc[df["backend"] == "jax", ["status", "fit_s"]] = ["failed", math.nan]
    line = summarize(df, ["tensorflow", "jax"]).iloc[0]
    assert math.isnan(line["JAX/TF"]) and line["jax:converged"] == "0/1"


@pytest.mark.parametrize("argv, needle", [
    (["--fits", "--padding", "same"], "--padding"),
    (["--fits", "--preset", "cifar"], "--preset"),
    (["--fits", "--families", "nope"], "nope"),
    (["--fits", "--budgets", "0"], "budget"),
    (["--fits", "--backends", "jax,jax"], "twice"),
    (["--budgets", "5000"], "--budgets"),
])
def test_bad_fit_flags_exit_2_naming_the_flag(argv, needle, tmp_path, capsys):
    assert speed.main(argv + ["--out", str(tmp_path / "f.csv")]) == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "f.csv").exists()
