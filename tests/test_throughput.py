"""bench.run.throughput: analytic MACs against hand counts, interleaved measurement, step memory in
fresh processes, resumable run files."""

from __future__ import annotations

import math

import keras
import numpy as np
import pandas as pd
import pytest

import layers
from bench.run import throughput
from bench.run.backbone import block_input_shapes, block_widths, build_backbone
from bench.store import ResultsError as RunFilesError  # noqa: N814
from bench.run.step_memory import step_memory
from bench.run.throughput import measure_model, measure_models, measure_run, model_macs
from results_fixture import copy_fixture_run


# -- MACs -------------------------------------------------------------------------------------
def test_model_macs_conv_backbone_by_hand():
    # 8×8×1 input, width 2, depth 2, 3×3 'same' kernels, GAP head, 10 classes:
    #   conv_0: 8·8 positions × 9 taps × 1 in × 2 out   = 1152
    #   pool → 4×4×2; conv_1: 4·4 × 9 × 2 in × 4 out    = 1152
    #   classifier: 4 features × 10 units               =   40
    model = build_backbone("conv", (8, 8, 1), 10, 2)
    assert model_macs(model, "conv") == 1152 + 1152 + 40


def test_model_macs_sisws_backbone_by_hand():
    # SISWS as the original layer computes it: one conv with K·S filters plus the S-way weighted
    # sum (one extra multiply-add per output and KCP). S = 2×2 = 4.
    #   block 0: 8·8 × 2 filters × 4 KCPs × (9·1 + 1) = 5120
    #   block 1: 4·4 × 4 filters × 4 KCPs × (9·2 + 1) = 4864
    #   classifier: 4 × 10                              =   40
    model = build_backbone("sisws", (8, 8, 1), 10, 2, family_hp={"n_centroids": (2, 2)})
    assert model_macs(model, "sisws") == 5120 + 4864 + 40


def test_model_macs_plain_functional_model_by_hand():
    # A model not built by the backbone: Conv2D 'valid' stride 2 on 9×9×3, then Dense.
    inputs = keras.Input((9, 9, 3))
    x = keras.layers.Conv2D(5, 3, strides=2, padding="valid")(inputs)  # out 4×4×5
    x = keras.layers.Flatten()(x)  # 80 features
    outputs = keras.layers.Dense(7)(x)
    model = keras.Model(inputs, outputs)
    assert model_macs(model, "conv") == 4 * 4 * (3 * 3 * 3) * 5 + 80 * 7


@pytest.mark.parametrize("family_name", layers.list_families())
def test_model_macs_sums_each_family_formula(family_name):
    # Every family (plugins too): the walk finds every block and passes its real input shape.
    fam = layers.get_family(family_name)
    model = build_backbone(family_name, (12, 10, 2), 5, 3, depth=2, kernel_size=3)
    expected = sum(fam.macs(shape, filters, 3, 1, "same")
                   for shape, filters in zip(block_input_shapes((12, 10, 2), 3, 2, 3), block_widths(3, 2)))
    expected += block_widths(3, 2)[-1] * 5
    assert model_macs(model, family_name) == expected


def test_model_macs_rejects_a_model_without_countable_layers():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.ReLU()(inputs), name="bare")
    with pytest.raises(ValueError, match="'bare'"):
        model_macs(model, "conv")


# -- measuring one model ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_model():
    keras.utils.set_random_seed(0)
    return build_backbone("sisws", (8, 8, 1), 10, 2, family_hp={"n_centroids": (2, 2)})


def test_measure_model_gives_positive_finite_figures(tiny_model):
    before = [w.copy() for w in tiny_model.get_weights()]
    out = measure_model(tiny_model, "sisws", (8, 8, 1), 10, batch=16, repeats=3, warmup=1, min_sample_s=0.005)
    assert out["repeats"] == 3 and out["batch"] == 16 and out["timing"] == "interleaved"
    for key in ("train_img_s", "infer_img_s", "latency_ms_b1"):
        low, mid, high = out[f"{key}_min"], out[key], out[f"{key}_max"]
        assert all(math.isfinite(v) and v > 0 for v in (low, mid, high)), key
        assert low <= mid <= high, key
    assert out["params"] == sum(int(np.prod(w.shape)) for w in tiny_model.trainable_weights)
    assert out["macs_per_image"] == 5120 + 4864 + 40
    assert out["device"].startswith(("CPU (", "GPU: "))
    # Training speed is measured on a clone: the caller's weights are unchanged.
    for a, b in zip(before, tiny_model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_models_are_timed_in_interleaved_rounds(tiny_model, monkeypatch):
    # Every round times every model's three calls once, each round starting one task later.
    seen = []
    real = throughput.time_interleaved

    def recording(tasks, repeats, **kwargs):
        seen.append((list(tasks), repeats))
        return real(tasks, repeats, **kwargs)

    monkeypatch.setattr(throughput, "time_interleaved", recording)
    other = build_backbone("conv", (8, 8, 1), 10, 2)
    out = measure_models({"a": (tiny_model, "sisws"), "b": (other, "conv")}, (8, 8, 1), 10, batch=8, repeats=2,
                         min_sample_s=0.001)
    assert seen == [([("a", "train"), ("a", "infer"), ("a", "latency"), ("b", "train"), ("b", "infer"),
                      ("b", "latency")], 2)]
    assert set(out) == {"a", "b"} and out["b"]["macs_per_image"] == model_macs(other, "conv")


@pytest.mark.parametrize("bad", [{"batch": 0}, {"repeats": 0}, {"warmup": -1}, {"min_sample_s": 0}])
def test_measure_model_rejects_bad_settings(tiny_model, bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=f"{name}="):
        measure_model(tiny_model, "sisws", (8, 8, 1), 10, **bad)


def test_step_memory_is_a_figure_of_the_model_not_of_the_measuring_order():
    # Each model is measured in its own fresh process: the same model measured first and
    # last, with others between, gives the same figure up to step-to-step noise (the peak RSS
    # of earlier runs rose by 40 % from the first model measured to the last), and a larger
    # model needs more.
    models = run_models("conv__3000", "sisws_trainable__3000", "conv__3000", "conv__300")
    mib, note = step_memory(models, (8, 8, 1), 10, 32)
    assert note == ""
    first, last, small = mib[0], mib[2], mib[3]
    assert all(v is not None and v > 0 for v in mib.values()), mib
    assert abs(first - last) / first < 0.3, mib
    assert small < first, mib


# -- a whole run ----------------------------------------------------------------------------------
FAST = dict(batch=8, repeats=1, warmup=1, min_sample_s=0.001, memory=False)


def run_models(*names):
    """Index → path of the fixture run's saved models ``names`` (e.g. 'conv__3000')."""
    from results_fixture import FIXTURE_RUN

    return {i: FIXTURE_RUN / "models" / f"{name}.keras" for i, name in enumerate(names)}


def _completed_cells(run_dir):
    final = pd.read_csv(run_dir / "final.csv")
    return final[final["status"] == "completed"][["family", "budget"]].drop_duplicates()


def test_measure_run_resumes_without_duplicating_rows(tmp_path, monkeypatch):
    run_dir = copy_fixture_run(tmp_path)
    stored = pd.read_csv(run_dir / "throughput.csv")
    cells = _completed_cells(run_dir)
    assert len(stored) == len(cells)  # the fixture is fully measured
    # Forget one cell, as if the measurement had been interrupted before it.
    dropped = stored.iloc[-1]
    stored.iloc[:-1].to_csv(run_dir / "throughput.csv", index=False)

    table = measure_run(run_dir, **FAST)
    assert len(table) == len(cells)
    assert not table.duplicated(["family", "budget"]).any()
    new = table[(table["family"] == dropped["family"]) & (table["budget"] == dropped["budget"])].iloc[0]
    assert new["repeats"] == 1 and new["batch"] == 8 and new["train_img_s"] > 0 and new["timing"] == "interleaved"
    on_disk = pd.read_csv(run_dir / "throughput.csv")
    pd.testing.assert_frame_equal(on_disk, table, check_dtype=False)
    assert sorted(p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")) == []

    # A second call has nothing left to do and writes nothing.
    calls = []
    monkeypatch.setattr(throughput, "measure_models", lambda *a, **k: calls.append(a))
    again = measure_run(run_dir, **FAST)
    assert calls == [] and len(again) == len(cells)
    pd.testing.assert_frame_equal(pd.read_csv(run_dir / "throughput.csv"), on_disk)


def test_measure_run_names_missing_models_before_measuring(tmp_path, monkeypatch):
    run_dir = copy_fixture_run(tmp_path)
    (run_dir / "throughput.csv").unlink()
    victim = next((run_dir / "models").glob("*.keras"))
    victim.unlink()
    monkeypatch.setattr(throughput, "measure_models", lambda *a, **k: pytest.fail("measured despite a missing model"))
    with pytest.raises(RunFilesError, match=victim.name):
        measure_run(run_dir, **FAST)
    assert not (run_dir / "throughput.csv").exists()


@pytest.mark.parametrize("missing", ["run.json", "final.csv"])
def test_measure_run_names_missing_run_files(tmp_path, missing):
    run_dir = copy_fixture_run(tmp_path)
    (run_dir / missing).unlink()
    with pytest.raises(RunFilesError, match=missing):
        measure_run(run_dir, **FAST)


def test_measure_run_unknown_run(tmp_path):
    copy_fixture_run(tmp_path, "real_run")
    with pytest.raises(RunFilesError, match=r"nope.*not a wsbench run"):
        measure_run(tmp_path / "nope", **FAST)
    assert not (tmp_path / "nope").exists()  # nothing created for a run that is not there
