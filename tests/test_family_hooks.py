"""A family gets its train flag, pictures and speed rows from its hooks, with no harness edit.

A throwaway family (``toy_hooks``: K·n kernels averaged per filter, two routes that compute
the same thing) is registered in a subprocess, so the registry of this test process never
sees it; the subprocess drives the harness as a user would (``wsbench train`` parser and a
one-epoch run, ``bench.visualize``, ``wsbench speed``'s row builder and targets) and
reports what it got. The toy declares a flag (``--toy-n``), a picture kind of its own
(``toy_mean``), a watched weight, two routes, a callable speed reference and a target.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent('''
    import argparse, json, sys
    import keras
    import numpy as np
    import pandas as pd
    from keras import ops
    from matplotlib.figure import Figure

    import layers
    from layers import Family, RoutedLayer, SpeedSpec, SpeedTarget, TrainFlag, register_family


    @keras.saving.register_keras_serializable(package="toy_hooks_test")
    class ToyMean2D(RoutedLayer):
        """n kernels per filter, averaged: both routes compute the same convolution."""

        def __init__(self, filters, kernel_size, strides=1, padding="valid", n=2, route="auto", **kwargs):
            super().__init__(filters, kernel_size, strides, padding, route=route, **kwargs)
            self.n = n

        @property
        def n_mixed_kernels(self):
            return self.n

        def build(self, input_shape):
            self.out_hw = self.output_hw(input_shape)
            kh, kw = self.kernel_size
            self.kernel = self.add_weight(name="kernel", shape=(kh, kw, int(input_shape[-1]), self.filters * self.n))

        def call(self, x):
            y = ops.conv(x, self.kernel, strides=self.strides, padding=self.padding)
            return ops.mean(ops.reshape(y, (-1,) + tuple(self.out_hw) + (self.filters, self.n)), axis=-1)

        def position_kernels_flat(self):
            mean = ops.mean(ops.reshape(self.kernel, (-1, self.filters, self.n)), axis=-1)
            p = self.out_hw[0] * self.out_hw[1]
            return ops.broadcast_to(mean[None], (p,) + tuple(mean.shape))

        def get_config(self):
            config = super().get_config()
            config["n"] = self.n
            return config


    def toy_reference(layer, x):
        """The literal formulation: the convolution with the mean kernel."""
        kernel = ops.mean(ops.reshape(layer.kernel, tuple(layer.kernel.shape[:3]) + (layer.filters, layer.n)), -1)
        return ops.conv(x, kernel, strides=layer.strides, padding=layer.padding)


    @register_family("toy_hooks")
    class ToyFamily(Family):
        description = "Toy: K*n kernels averaged per filter."
        layer_type = ToyMean2D
        pictures = ("toy_mean", "kernels")
        watched_weights = ("kernel",)
        train_flags = (TrainFlag("--toy-n", "kernels averaged per filter", "toy kernels", {"type": int}),)
        routes = ("conv", "auto")
        speed = SpeedSpec(lambda shape: {"n": 2}, reference=toy_reference,
                          targets=(SpeedTarget("reference", 1.5, route="conv"),))

        def make_layer(self, filters, kernel_size, strides, padding, **hp):
            return ToyMean2D(filters, kernel_size, strides, padding, **hp)

        def macs(self, input_shape, filters, kernel_size, strides=1, padding="valid", n=2, **hp):
            oh, ow, _ = self.output_shape(input_shape, filters, kernel_size, strides, padding)
            return oh * ow * int(kernel_size) ** 2 * int(input_shape[-1]) * filters * n

        def train_hyperparameters(self, flags):
            n = flags["toy_n"]
            if n is not None and n < 1:
                raise ValueError(f"--toy-n {n} is not accepted: give a positive number.")
            return {"n": 2 if n is None else n}

        def draw_picture(self, kind, layer):
            if kind != "toy_mean":
                return None
            fig = Figure()
            fig.add_subplot(1, 1, 1).set_title(f"toy mean of {layer.name}")
            return fig


    report = {}

    # -- wsbench train: the flag ------------------------------------------------------------
    from bench.train import command as train
    from bench.train.flags import family_settings

    parser = argparse.ArgumentParser(prog="wsbench")
    train_parser = train.add_parser(parser.add_subparsers(dest="command"))
    report["settings"] = family_settings(parser.parse_args(["train", "--family", "toy_hooks", "--toy-n", "3"]))
    report["help"] = " ".join(train_parser.format_help().split())
    errors = {}
    for argv in (["--family", "conv", "--toy-n", "3"], ["--family", "toy_hooks", "--toy-n", "0"],
                 ["--family", "toy_hooks", "--centroid-grid", "2", "2"]):
        try:
            family_settings(parser.parse_args(["train"] + argv))
            errors[" ".join(argv)] = None
        except ValueError as exc:
            errors[" ".join(argv)] = str(exc)
    report["errors"] = errors

    # -- pictures ---------------------------------------------------------------------------
    from bench import visualize as viz
    from bench.train.tensorboard_images import KernelImages

    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, layers.get_family("toy_hooks").build(3, 3, 1, "same", name="spatial", n=2)(inputs))
    pictures = viz.model_pictures(model, "toy_hooks", label="toy @ budget 1")
    report["pictures"] = [(kind, fig.axes[0].get_title() if kind == "toy_mean" else fig.get_suptitle())
                          for kind, fig in pictures]
    report["families_with_pictures"] = viz.families_with_pictures()
    callback = KernelImages("unused", "unused", ["spatial"])
    callback.set_model(model)
    report["tensorboard_tags"] = sorted(callback.images())
    report["family_of"] = layers.family_of(model.get_layer("spatial")).name

    # -- wsbench speed: rows and targets ----------------------------------------------------
    import tensorflow as tf
    from bench.speed.targets import targets
    from bench.speed.variants import SpeedShape, build_variants

    shape = SpeedShape(batch=2, height=6, width=6, channels=2, filters=3, kernel_size=3)
    variants, _ = build_variants(shape, only=["toy_hooks[conv]", "toy_hooks[auto]", "toy_hooks_reference"])
    x = tf.random.normal(shape.input_shape, seed=0)
    rows = {v.name: {"family": v.family, "kind": v.kind, "route": v.route, "compare_to": v.compare_to,
                     "macs": v.macs, "out": np.asarray(v.fn(x)).tolist()} for v in variants}
    report["speed_rows"] = rows
    table = pd.DataFrame([{"variant": name, "family": r["family"], "kind": r["kind"], "compare_to": r["compare_to"],
                           "train_x_ref": 1.2, "train_x_conv_k": 1.0, "mem_x_ref": 1.0} for name, r in rows.items()])
    report["targets"] = [c for c in targets(table) if "toy_hooks" in c["target"]]

    # -- a real one-epoch run ---------------------------------------------------------------
    logdir = sys.argv[1]
    report["train_exit"] = train.main(["--family", "toy_hooks", "--toy-n", "3", "--n-filters", "2", "2",
                                       "--epochs", "1", "--logdir", logdir])
    print("REPORT " + json.dumps(report, default=str))
''')


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("toy") / "run"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(logdir)], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", WSBENCH_DISABLE_PLUGINS="1"))
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("REPORT "))
    return json.loads(line[len("REPORT "):]), logdir, done.stdout


def test_toy_train_flag_is_parsed_by_its_family(report):
    got, _, _ = report
    assert got["settings"] == [{"n": 3}, []]
    assert "--toy-n TOY_N kernels averaged per filter [toy_hooks]" in got["help"]


def test_toy_train_flag_is_refused_with_other_families_and_checked_by_its_own(report):
    errors = report[0]["errors"]
    assert errors["--family conv --toy-n 3"] == (
        "--toy-n applies only to the families with toy kernels (toy_hooks), not to --family 'conv'.")
    assert errors["--family toy_hooks --toy-n 0"] == "--toy-n 0 is not accepted: give a positive number."
    assert errors["--family toy_hooks --centroid-grid 2 2"].startswith(
        "--centroid-grid applies only to the families with centroids (sisws, sisws_trainable)")


def test_toy_pictures_come_from_its_hooks(report):
    got, _, _ = report
    assert got["pictures"][0] == ["toy_mean", "toy @ budget 1\ntoy mean of spatial"]
    assert got["pictures"][1][0] == "kernels" and got["pictures"][1][1].startswith("toy @ budget 1\nspatial: kernels")
    assert "toy_hooks" in got["families_with_pictures"]
    assert got["tensorboard_tags"] == ["spatial/kernels", "spatial/kernels_overview", "spatial/toy_mean"]
    assert got["family_of"] == "toy_hooks"


def test_toy_speed_rows_and_target_come_from_its_hooks(report):
    got, _, _ = report
    rows = got["speed_rows"]
    assert sorted(rows) == ["toy_hooks[auto]", "toy_hooks[conv]", "toy_hooks_reference"]
    assert rows["toy_hooks[conv]"]["route"] == "conv" and rows["toy_hooks[auto]"]["route"] in ("conv", "mix")
    for name in ("toy_hooks[conv]", "toy_hooks[auto]"):
        assert rows[name]["compare_to"] == "toy_hooks_reference" and rows[name]["kind"] == "ours"
    assert rows["toy_hooks_reference"]["kind"] == "reference"
    # Every row builds a layer of its own (fresh random weights), not one shared layer.
    assert len({str(r["out"]) for r in rows.values()}) == 3
    declared, memory = got["targets"]
    assert declared == {"target": "toy_hooks[conv] train <= 1.5 x its literal reference", "ratio": 1.2,
                        "limit": 1.5, "met": True}
    assert memory["target"].endswith("(worst: toy_hooks[conv])")  # its routes join the memory goal


def test_toy_family_trains_with_its_flag_and_watched_weight(report):
    got, logdir, stdout = report
    assert got["train_exit"] == 0
    summary = json.loads((logdir / "train_summary.json").read_text())
    assert summary["family_hp"] == {"n": 3}
    initial, final = summary["kernel_initial"]["toy_hooks_0"], summary["kernel_final"]["toy_hooks_0"]
    assert len(initial[0][0][0]) == 2 * 3  # filters · n
    assert initial != final
    assert "toy_hooks_0: kernel moved by at most" in stdout
    assert (logdir / "png" / "toy_hooks_0" / "toy_mean.png").is_file()
