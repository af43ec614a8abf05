"""A stored run in TensorBoard's HParams dashboard: ``results/<run>/tensorboard/``.

One HParams session per trial (stage ``trial``: family, budget and every hyperparameter as
hparams; validation accuracy and loss, parameters and wall time as metrics) and one per
final and baseline seed (stage ``final`` / ``baseline``, with the seed; test accuracy as
the metric). ``tensorboard --logdir results/<run>/tensorboard`` then shows the whole study
in the parallel-coordinates and scatter views. Written from the stored tables alone, so
``wsbench report`` rebuilds it for any run, old ones included.

The files depend on the tables and run.json alone: every event and HParams time stamp is the
run's start time and every event file has a fixed name, so rebuilding a report from unchanged
tables leaves the directory byte for byte as it was (a committed run's logs do not churn).
"""

from __future__ import annotations

import datetime as dt
import filecmp
import json
import math
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterable, List

import pandas as pd

TENSORBOARD_DIR = "tensorboard"
#: Metric name → (column, description).
METRICS = {"val_accuracy": "validation accuracy of the trial's best checkpoint",
           "val_loss": "validation loss of the trial's best checkpoint",
           "params": "trainable parameters", "wall_s": "seconds the trial took",
           "test_accuracy": "test accuracy of a final or baseline seed"}


#: TensorBoard reads every file whose name holds 'tfevents'; one file per directory, always this name.
EVENT_FILE = "events.out.tfevents.wsbench"


def _events(logdir: Path, summaries: Iterable, wall_time: float) -> None:
    """Writes TensorFlow ``Summary`` protos as the event file of ``logdir``, with TensorBoard's
    record format, every event stamped ``wall_time``."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    logdir.mkdir(parents=True, exist_ok=True)
    with open(logdir / EVENT_FILE, "wb") as handle:
        writer = RecordWriter(handle)
        writer.write(event_pb2.Event(wall_time=wall_time, file_version="brain.Event:2").SerializeToString())
        for step, summary in enumerate(summaries):
            if not isinstance(summary, summary_pb2.Summary):
                summary = summary_pb2.Summary.FromString(summary.SerializeToString())
            writer.write(event_pb2.Event(wall_time=wall_time, step=step, summary=summary).SerializeToString())
        writer.flush()


def run_time(run_dir: Path) -> float:
    """The run's start (run.json ``started``) in seconds since the epoch, UTC; 0 if unknown."""
    from bench.store.rundir import RunDir

    try:
        started = RunDir(run_dir).read_run().get("started")
        return float(dt.datetime.fromisoformat(str(started)).replace(tzinfo=dt.timezone.utc).timestamp())
    except (ValueError, TypeError):
        return 0.0


def _scalar(tag: str, value: float):
    from tensorboard.compat.proto import summary_pb2

    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=float(value))])


def _clean(value) -> Any:
    """A value as an HParams value: bool, number or text."""
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def sessions(trials: pd.DataFrame, final: pd.DataFrame, baseline: pd.DataFrame) -> List[Dict[str, Any]]:
    """Every session to write: {name, hparams, metrics}."""
    out = []
    for r in trials[trials["status"] == "completed"].itertuples(index=False):
        hparams = {"family": r.family, "budget": int(r.budget), "stage": "trial", **json.loads(r.hp)}
        metrics = {m: float(getattr(r, m)) for m in ("val_accuracy", "val_loss", "params", "wall_s")
                   if m in trials.columns and not pd.isna(getattr(r, m))}
        out.append({"name": f"trial-{r.family}-{int(r.budget)}-{r.trial_id}", "hparams": hparams, "metrics": metrics})
    for stage, table in (("final", final), ("baseline", baseline)):
        for r in table[table["status"] == "completed"].itertuples(index=False):
            hparams = {"family": r.family, "budget": int(r.budget), "stage": stage, "seed": int(float(r.seed)),
                       **json.loads(r.hp)}
            out.append({"name": f"{stage}-{r.family}-{int(r.budget)}-seed{r.seed}", "hparams": hparams,
                        "metrics": {"test_accuracy": float(r.test_accuracy), "params": float(r.params)}})
    return out


def write_hparams(run_dir: Path) -> Path:
    """(Re)writes ``run_dir/tensorboard/`` from the run's tables; returns that directory.

    The logs are written into a new directory first and replace the old one only if they
    differ, so an unchanged run keeps its files untouched."""
    from bench.store.rundir import RunDir

    run = RunDir(run_dir)
    trials, final, baseline = run.read("trials"), run.read("final"), run.read("baseline")
    logdir = Path(run_dir) / TENSORBOARD_DIR
    with tempfile.TemporaryDirectory(dir=run_dir, prefix=".tensorboard-") as scratch:
        fresh = Path(scratch) / TENSORBOARD_DIR
        _write_sessions(fresh, sessions(trials, final, baseline), run_time(run_dir))
        if not (logdir.is_dir() and _same_tree(fresh, logdir)):
            if logdir.exists():
                shutil.rmtree(logdir)  # rebuilt whole: a rerun must not keep sessions of an earlier report
            fresh.rename(logdir)
    return logdir


def _same_tree(a: Path, b: Path) -> bool:
    """Whether two directories hold the same file names with the same bytes."""
    files = lambda root: sorted(p.relative_to(root) for p in root.rglob("*"))  # noqa: E731
    if files(a) != files(b):
        return False
    return all(filecmp.cmp(a / rel, b / rel, shallow=False) for rel in files(a) if (a / rel).is_file())


def _write_sessions(logdir: Path, found: List[Dict[str, Any]], wall_time: float) -> None:
    from tensorboard.plugins.hparams import api_pb2
    from tensorboard.plugins.hparams import summary as hparams_summary

    values: Dict[str, set] = {}
    for session in found:
        for name, value in session["hparams"].items():
            values.setdefault(name, set()).add(_clean(value))
    infos = []
    for name, seen in sorted(values.items()):
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in seen) and len(seen) > 10:
            domain = {"domain_interval": api_pb2.Interval(min_value=float(min(seen)), max_value=float(max(seen)))}
            kind = api_pb2.DATA_TYPE_FLOAT64
        else:
            kind = (api_pb2.DATA_TYPE_BOOL if all(isinstance(v, bool) for v in seen) else
                    api_pb2.DATA_TYPE_FLOAT64 if all(isinstance(v, (int, float)) for v in seen) else
                    api_pb2.DATA_TYPE_STRING)
            domain = {}
        infos.append(api_pb2.HParamInfo(name=name, type=kind, **domain))
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag), description=text) for tag, text in METRICS.items()]
    _events(logdir, [hparams_summary.experiment_pb(infos, metrics, time_created_secs=wall_time)], wall_time)
    for session in found:
        hparams = {k: _clean(v) for k, v in session["hparams"].items()}
        summaries = [hparams_summary.session_start_pb(hparams=hparams, group_name=session["name"],
                                                      start_time_secs=wall_time)]
        summaries += [_scalar(tag, value) for tag, value in session["metrics"].items() if math.isfinite(value)]
        summaries.append(hparams_summary.session_end_pb(api_pb2.STATUS_SUCCESS, end_time_secs=wall_time))
        _events(logdir / session["name"], summaries, wall_time)
