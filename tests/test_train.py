"""Tests of `wsbench train` (bench.train.command, bench.train.archs, bench.train.tensorboard_images).

Two short real runs on digits, in subprocesses as a user would start them:

- ``sisws`` with a fixed 2×2 centroid grid and colour coding, log verbosity 0 (images only
  when training ends), 2 epochs;
- ``sisws_trainable`` with 3 random centroids, log verbosity 1 (images every epoch),
  2 epochs, the model saved to a path of its own.

The event files, PNGs, saved models and centroids are read back and checked against
independent expectations (the grid written out by hand, the model's own weights).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from matplotlib.image import imread

import layers
from bench import visualize as viz
from bench.train import command as train
from bench.data import load_dataset
from bench.train.flags import family_settings
from bench.train.tensorboard_images import TILE_SIDE, KernelImages
from bench.train.archs import ARCHS, build_model, spatial_layer_names

ROOT = Path(__file__).resolve().parents[1]
FILTERS = (4, 8)


def run_train(*flags) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-m", "bench.train.command", *flags], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)


def read_events(folder: Path) -> dict:
    """tag → {step: tensor as numpy} from every event file in ``folder``."""
    out: dict = {}
    files = sorted(str(p) for p in folder.glob("events.out.tfevents.*"))
    assert files, f"no event files in {folder}"
    for record in tf.data.TFRecordDataset(files):
        event = tf.compat.v1.Event.FromString(record.numpy())
        for value in event.summary.value:
            out.setdefault(value.tag, {})[event.step] = tf.make_ndarray(value.tensor)
    return out


def png_count(tensor) -> int:
    """Images in one tf.summary.image tensor: [width, height, png, png, …]."""
    return len(tensor) - 2


@pytest.fixture(scope="module")
def fixed_run(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("train") / "sisws"
    proc = run_train("--dataset", "digits", "--family", "sisws", "--centroid-grid", "2", "2", "--color-coding",
                     "--n-filters", *map(str, FILTERS), "--epochs", "2", "--log-verbosity", "0",
                     "--logdir", str(logdir), "--seed", "0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, logdir


@pytest.fixture(scope="module")
def trainable_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("train")
    logdir, save = base / "trainable", base / "elsewhere" / "net.keras"
    proc = run_train("--dataset", "digits", "--family", "sisws_trainable", "--n-centroids", "3",
                     "--n-filters", *map(str, FILTERS), "--epochs", "2", "--log-verbosity", "1",
                     "--logdir", str(logdir), "--save", str(save), "--seed", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, logdir, save


def summary(logdir: Path) -> dict:
    return json.loads((logdir / "train_summary.json").read_text())


# -- the two real runs --------------------------------------------------------------------------
@pytest.mark.slow
def test_run_prints_progress_test_accuracy_and_parameter_count(fixed_run):
    proc, logdir = fixed_run
    out = proc.stdout
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "val_accuracy" in out
    model = keras.saving.load_model(logdir / "model.keras")
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert f"parameters: {trainable} trainable, {model.count_params()} total" in out
    accuracy = float(out.split("test accuracy: ")[1].split()[0])
    data = load_dataset("digits", seed=0)
    own = float(np.mean(np.argmax(model.predict(data.x_test, verbose=0), -1) == data.y_test))
    assert abs(accuracy - own) < 5e-4
    assert summary(logdir)["test_accuracy"] == pytest.approx(own, abs=1e-6)


@pytest.mark.slow
def test_scalars_for_loss_and_accuracy_on_train_and_validation(fixed_run):
    _, logdir = fixed_run
    for split in ("train", "validation"):
        events = read_events(logdir / split)
        for tag in ("epoch_loss", "epoch_accuracy"):
            assert sorted(events[tag]) == [0, 1], (split, tag)
    history = summary(logdir)["history"]
    val = read_events(logdir / "validation")["epoch_accuracy"]
    assert float(val[1]) == pytest.approx(history["val_accuracy"][1], abs=1e-6)


@pytest.mark.slow
def test_image_summaries_of_the_fixed_grid_run(fixed_run):
    _, logdir = fixed_run
    events = read_events(logdir / "images")
    name = "sisws_0"
    expected = {f"{name}/kernels", f"{name}/kernels_overview", f"{name}/kernels_color",
                f"{name}/kernels_color_overview", "legend", f"{name}/similarity"}
    assert set(events) == expected  # verbosity 0: only the first spatial layer
    for tag in expected:
        assert sorted(events[tag]) == [1], f"{tag}: verbosity 0 writes images once, after the last epoch"
    assert png_count(events[f"{name}/kernels"][1]) == FILTERS[0]  # one image per output filter
    assert png_count(events[f"{name}/kernels_color"][1]) == FILTERS[0]
    image = tf.io.decode_png(events[f"{name}/kernels_color"][1][2 + 3]).numpy()
    model = keras.saving.load_model(logdir / "model.keras")
    tile = viz.enlarge(viz.kernel_grid_image(model.get_layer(name), color_coding=True, filter_index=3), TILE_SIDE)
    np.testing.assert_allclose(image[..., :3] / 255.0, tile, atol=1 / 255 + 1e-6)


@pytest.mark.slow
def test_pngs_match_the_trained_layer(fixed_run):
    _, logdir = fixed_run
    folder = logdir / "png" / "sisws_0"
    model = keras.saving.load_model(logdir / "model.keras")
    layer = model.get_layer("sisws_0")
    for k in range(FILTERS[0]):
        plain = imread(folder / f"kernels_filter_{k:02d}.png")[..., :3]
        coded = imread(folder / f"kernels_color_filter_{k:02d}.png")[..., :3]
        np.testing.assert_allclose(plain, viz.enlarge(viz.kernel_grid_image(layer, filter_index=k), TILE_SIDE),
                                   atol=1 / 255 + 1e-6)
        np.testing.assert_allclose(coded, viz.enlarge(viz.kernel_grid_image(layer, color_coding=True,
                                                                             filter_index=k), TILE_SIDE),
                                   atol=1 / 255 + 1e-6)
    for figure in ("kernels_overview.png", "kernels_color_overview.png", "similarity.png"):
        assert imread(folder / figure).shape[0] > 200, figure
    legend = imread(logdir / "png" / "legend.png")[..., :3]
    for color in viz.centroid_colors(4):
        assert (np.abs(legend - np.asarray(color)).max(-1) < 0.02).any(), color
    assert not (logdir / "png" / "sisws_1").exists()


@pytest.mark.slow
def test_saved_models_load_back_with_identical_predictions(fixed_run, trainable_run):
    _, fixed_dir = fixed_run
    _, trainable_dir, save = trainable_run
    assert not (trainable_dir / "model.keras").exists()  # --save moved it
    for logdir, path, seed in ((fixed_dir, fixed_dir / "model.keras", 0), (trainable_dir, save, 1)):
        assert summary(logdir)["reload_max_difference"] == 0.0
        model = keras.saving.load_model(path)
        x_test = load_dataset("digits", seed=seed).x_test
        np.testing.assert_allclose(model.predict(x_test, verbose=0), np.load(logdir / "test_predictions.npy"),
                                   rtol=0, atol=1e-6)


@pytest.mark.slow
def test_fixed_grid_centroids_did_not_move(fixed_run):
    _, logdir = fixed_run
    grid = [[1 / 3, 1 / 3], [2 / 3, 1 / 3], [1 / 3, 2 / 3], [2 / 3, 2 / 3]]  # (x, y), interior 2×2 grid of [0, 1]
    info = summary(logdir)
    model = keras.saving.load_model(logdir / "model.keras")
    for name in spatial_layer_names("sisws-demo", "sisws", FILTERS):
        np.testing.assert_allclose(info["centroids_initial"][name], [grid], atol=1e-6)
        np.testing.assert_array_equal(info["centroids_final"][name], info["centroids_initial"][name])
        layer = model.get_layer(name)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.centroids), [grid], atol=1e-6)
        assert not any(w is layer.centroids for w in model.trainable_weights)


@pytest.mark.slow
def test_trainable_centroids_moved(trainable_run):
    proc, logdir, save = trainable_run
    info = summary(logdir)
    model = keras.saving.load_model(save)
    for name in spatial_layer_names("sisws-demo", "sisws_trainable", FILTERS):
        before, after = np.asarray(info["centroids_initial"][name]), np.asarray(info["centroids_final"][name])
        assert before.shape == (1, 3, 2)
        assert ((before >= 0) & (before <= 1)).all()  # uniform random in [0, scale]²
        assert np.abs(after - before).max() > 1e-3, f"{name}: trainable centroids did not move"
        layer = model.get_layer(name)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.centroids), after, atol=1e-7)
        assert any(w is layer.centroids for w in model.trainable_weights)
        assert f"{name}: centroids moved by at most" in proc.stdout


@pytest.mark.slow
def test_verbosity_one_writes_images_every_epoch_without_colour(trainable_run):
    _, logdir, _ = trainable_run
    events = read_events(logdir / "images")
    name = "sisws_trainable_0"
    assert set(events) == {f"{name}/kernels", f"{name}/kernels_overview", f"{name}/similarity"}
    for tag, steps in events.items():
        assert sorted(steps) == [0, 1], tag
    assert (logdir / "png" / name / "similarity.png").exists()
    assert not (logdir / "png" / "legend.png").exists()


# -- the image callback and the architectures, in process ---------------------------------------
@pytest.mark.parametrize("name_the_family", [True, False])
def test_kernel_images_work_for_every_family(family_name, name_the_family, tmp_path):
    keras.utils.set_random_seed(0)
    model = build_model("sisws-demo", family_name, (8, 8, 1), 3, (2, 3))
    callback = KernelImages(tmp_path / "images", tmp_path / "png", [f"{family_name}_0"],
                            family=family_name if name_the_family else None)
    callback.set_model(model)
    callback.write(0)
    events = read_events(tmp_path / "images")
    # Kernel grids for every family, plus each other picture the family declares (SISWS: similarity).
    declared = {f"{family_name}_0/{kind}" for kind in layers.get_family(family_name).pictures if kind != "kernels"}
    expected = {f"{family_name}_0/kernels", f"{family_name}_0/kernels_overview"}
    assert set(events) == expected | declared
    assert (f"{family_name}_0/similarity" in events) == family_name.startswith("sisws")
    assert png_count(events[f"{family_name}_0/kernels"][0]) == 2
    assert len(list((tmp_path / "png" / f"{family_name}_0").glob("kernels_filter_*.png"))) == 2


def test_kernel_images_colour_codes_only_layers_with_centroids(tmp_path):
    keras.utils.set_random_seed(0)
    for family_name, coded in (("sisws", True), ("lrlc", False)):
        model = build_model("sisws-demo", family_name, (8, 8, 1), 3, (2, 3))
        callback = KernelImages(tmp_path / family_name, tmp_path / "png", [f"{family_name}_0"],
                                pictures=("kernels_color",), family=family_name)
        callback.set_model(model)
        tags = set(callback.images())
        assert ({f"{family_name}_0/kernels_color", f"{family_name}_0/kernels_color_overview", "legend"} <= tags) == coded
        assert ("legend" in tags) == coded


@pytest.mark.parametrize("arch", ARCHS)
def test_architectures_use_the_family_in_every_spatial_layer(arch, family_name):
    filters = (2, 4)
    model = build_model(arch, family_name, (8, 8, 1), 10, filters)
    assert model.output_shape == (None, 10)
    kind = type(layers.get_family(family_name).build(1, 3))
    names = spatial_layer_names(arch, family_name, filters)
    for name, f in zip(names, filters):
        layer = model.get_layer(name)
        assert type(layer) is kind and layer.filters == f
    spatial = [lyr for lyr in model.layers if type(lyr) is kind]
    assert len(spatial) == len(filters)


def test_sisws_demo_matches_the_original_network():
    model = build_model("sisws-demo", "conv", (8, 8, 1), 10, (24, 48))
    kernels = [lyr.kernel_size for lyr in model.layers if isinstance(lyr, keras.layers.Conv2D)]
    assert kernels == [(7, 7), (3, 3)]
    dense = [lyr.units for lyr in model.layers if isinstance(lyr, keras.layers.Dense)]
    assert dense == [128, 256, 10]
    assert sum(isinstance(lyr, keras.layers.BatchNormalization) for lyr in model.layers) == 2
    assert sum(isinstance(lyr, keras.layers.MaxPooling2D) for lyr in model.layers) == 2
    # 7·7·1·24+24, BN 2·24, 3·3·24·48+48, BN 2·48, (2·2·48)·128+128, 128·256+256, 256·10+10
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == (49 * 24 + 24) + 48 + (9 * 24 * 48 + 48) + 96 + (192 * 128 + 128) + (128 * 256 + 256) + 2570


def test_lecture_convnet_matches_the_lecture_network():
    model = build_model("lecture-convnet", "conv", (28, 28, 1), 10, (32, 64))
    convs = [(lyr.kernel_size, lyr.filters) for lyr in model.layers if isinstance(lyr, keras.layers.Conv2D)]
    assert convs == [((5, 5), 32), ((5, 5), 64)]
    assert [lyr.units for lyr in model.layers if isinstance(lyr, keras.layers.Dense)] == [1024, 10]
    assert model.get_layer("flatten").output.shape[-1] == 7 * 7 * 64


# -- the command line ---------------------------------------------------------------------------
def test_add_parser_registers_the_train_subcommand():
    parser = argparse.ArgumentParser(prog="wsbench")
    sub = parser.add_subparsers(dest="command", required=True)
    train.add_parser(sub)
    args = parser.parse_args(["train", "--centroid-grid", "3", "2", "--centroids-trainable", "--color-coding"])
    assert args.command == "train" and callable(train.run)
    assert args.centroid_grid == [3, 2] and args.centroids_trainable and args.color_coding
    assert (args.dataset, args.family, args.arch, args.epochs, args.log_verbosity) == (
        "digits", "sisws", "sisws-demo", 10, 0)
    assert family_settings(args) == ({"n_centroids": (3, 2), "centroids_trainable": True}, ("kernels_color",))
    plain = parser.parse_args(["train"])
    assert family_settings(plain) == ({"n_centroids": (2, 2)}, ())  # the original demo's 2×2 grid
    assert family_settings(parser.parse_args(["train", "--family", "conv"])) == ({}, ())


def test_family_flags_come_from_the_families_hooks(capsys):
    parser = argparse.ArgumentParser(prog="wsbench")
    train.add_parser(parser.add_subparsers(dest="command", required=True))
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for name in layers.list_families():
        for flag in layers.get_family(name).train_flags:
            accepting = [n for n in layers.list_families()
                         if flag.flag in [f.flag for f in layers.get_family(n).train_flags]]
            assert flag.flag in help_text
            assert f"[{', '.join(accepting)}]" in help_text
    assert "[sisws, sisws_trainable]" in help_text  # the centroid flags


def test_building_the_parser_imports_no_family():
    code = ("import argparse, sys\n"
            "from bench.train import command\n"
            "parser = argparse.ArgumentParser()\n"
            "command.add_parser(parser.add_subparsers(dest='command'))\n"
            "print('before', 'tensorflow' in sys.modules, 'layers' in sys.modules)\n"
            "args = parser.parse_args(['train', '--n-centroids', '3'])\n"
            "print('after', 'layers' in sys.modules, args.n_centroids)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "before False False" in done.stdout and "after True 3" in done.stdout


@pytest.mark.parametrize("flags,message", [
    (["--centroid-grid", "3"], "--centroid-grid 3 is not accepted: give two numbers"),
    (["--centroid-grid", "2", "2", "2"], "--centroid-grid 2 2 2 is not accepted"),
    (["--centroid-grid", "2", "2", "--n-centroids", "4"], "--centroid-grid 2 2 and --n-centroids 4 exclude each other"),
    (["--centroid-grid", "0", "2"], "--centroid-grid 0 2 is not accepted"),
    (["--n-centroids", "0"], "--n-centroids 0 is not accepted"),
    (["--n-filters", "0", "8"], "--n-filters 0 8 is not accepted"),
    (["--n-filters", "-3", "8"], "--n-filters -3 8 is not accepted"),
    (["--n-filters", "8"], "give two numbers"),
    (["--arch", "backbone", "--n-filters", "8", "12"], "double the width"),
    (["--color-coding", "--n-centroids", "13"], "at most 12 centroids, but the layout asks for 13"),
    (["--color-coding", "--centroid-grid", "4", "4"], "asks for 16 (--centroid-grid 4 4)"),
    (["--family", "conv", "--centroid-grid", "2", "2"], "--centroid-grid applies only to the families with centroids"),
    (["--family", "lrlc", "--color-coding"], "not to --family 'lrlc'"),
    (["--family", "nope"], "unknown family 'nope'"),
    (["--dataset", "nope"], "unknown dataset 'nope'"),
    (["--epochs", "0"], "--epochs 0 is not accepted"),
    (["--learning-rate", "-0.1"], "--learning-rate -0.1 is not accepted"),
    (["--save", "model.h5"], "--save 'model.h5' is not accepted"),
])
def test_flag_errors_exit_non_zero_naming_the_value(flags, message, tmp_path, capsys):
    logdir = tmp_path / "never"
    assert train.main([*flags, "--logdir", str(logdir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wsbench train: error: ") and message in err, err
    assert not logdir.exists()  # nothing half-written


@pytest.mark.parametrize("flags,message", [
    (["--log-verbosity", "4"], "invalid choice: 4"),
    (["--arch", "vgg"], "invalid choice: 'vgg'"),
    (["--epochs", "two"], "invalid int value: 'two'"),
])
def test_argparse_errors_exit_with_code_two(flags, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(flags)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_subprocess_flag_error_exits_non_zero():
    proc = run_train("--centroid-grid", "2", "2", "--n-centroids", "4")
    assert proc.returncode == 2
    assert "exclude each other" in proc.stderr
