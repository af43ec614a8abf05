"""Every trial, final seed and baseline seed of a stored run as a session of TensorBoard's
HParams dashboard, read back with TensorBoard's own event reader."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from bench.store.tensorboard import write_hparams
from results_fixture import FIXTURE_RUN, copy_fixture_run


def read_sessions(logdir):
    """session name → (hparams as plain values, scalar tags), from TensorBoard's reader."""
    out = {}
    for sub in sorted(p for p in logdir.iterdir() if p.is_dir()):
        reader = event_accumulator.EventAccumulator(str(sub))
        reader.Reload()
        content = reader.PluginTagToContent("hparams")["_hparams_/session_start_info"]
        start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
        hparams = {k: (v.string_value or v.number_value if v.WhichOneof("kind") != "bool_value" else v.bool_value)
                   for k, v in start.hparams.items()}
        out[sub.name] = (hparams, {tag: reader.Scalars(tag)[0].value for tag in reader.Tags()["scalars"]})
    return out


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    run_dir = copy_fixture_run(tmp_path_factory.mktemp("tb"))
    return read_sessions(write_hparams(run_dir)), run_dir


def test_one_session_per_trial_and_seed(sessions):
    found, _ = sessions
    tables = {t: pd.read_csv(FIXTURE_RUN / f"{t}.csv") for t in ("trials", "final", "baseline")}
    completed = {t: int((table["status"] == "completed").sum()) for t, table in tables.items()}
    stages = pd.Series([h["stage"] for h, _ in found.values()]).value_counts().to_dict()
    assert stages == {"trial": completed["trials"], "final": completed["final"], "baseline": completed["baseline"]}


def test_a_trial_session_holds_every_hyperparameter_and_its_metrics(sessions):
    found, _ = sessions
    trials = pd.read_csv(FIXTURE_RUN / "trials.csv", dtype={"trial_id": str})
    row = trials[trials["status"] == "completed"].iloc[0]
    hparams, scalars = found[f"trial-{row['family']}-{row['budget']}-{row['trial_id']}"]
    assert hparams["family"] == row["family"] and hparams["budget"] == row["budget"]
    for name, value in json.loads(row["hp"]).items():
        assert hparams[name] == pytest.approx(value) if isinstance(value, float) else hparams[name] == value
    assert scalars["val_accuracy"] == pytest.approx(row["val_accuracy"], rel=1e-6)
    assert scalars["params"] == row["params"] and set(scalars) >= {"val_loss", "wall_s"}


def test_rebuilding_replaces_the_logs(sessions):
    found, run_dir = sessions
    (run_dir / "tensorboard" / "stale-session").mkdir()
    assert set(read_sessions(write_hparams(run_dir))) == set(found)


def test_rebuilding_unchanged_tables_leaves_the_files_as_they_were(tmp_path):
    # Same names, same bytes, not even rewritten: a committed run's logs do not churn.
    run_dir = copy_fixture_run(tmp_path)
    logdir = write_hparams(run_dir)

    def files():
        return {p.relative_to(logdir): (p.read_bytes(), p.stat().st_mtime_ns) for p in logdir.rglob("*") if p.is_file()}

    before = files()
    assert all("tfevents" in p.name for p in before)
    write_hparams(run_dir)
    assert files() == before
    assert [p.name for p in run_dir.iterdir() if p.name.startswith(".tensorboard")] == []  # no scratch left
