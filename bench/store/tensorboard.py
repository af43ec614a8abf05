"""A stored run in TensorBoard's HParams dashboard: ``results/<run>/tensorboard/``.

One HParams session per trial (stage ``trial``: family, budget and every hyperparameter as
hparams; validation accuracy and loss, parameters and wall time as metrics) and one per
final and baseline seed (stage ``final`` / ``baseline``, with the seed; test accuracy as
the metric). ``tensorboard --logdir results/<run>/tensorboard`` then shows the whole study
in the parallel-coordinates and scatter views. Written from the stored tables alone, so
``wsbench report`` rebuilds it for any run, old ones included.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any, Dict, Iterable, List

import pandas as pd

TENSORBOARD_DIR = "tensorboard"
#: Metric name → (column, description).
METRICS = {"val_accuracy": "validation accuracy of the trial's best checkpoint",
           "val_loss": "validation loss of the trial's best checkpoint",
           "params": "trainable parameters", "wall_s": "seconds the trial took",
           "test_accuracy": "test accuracy of a final or baseline seed"}


def _events(logdir: Path, summaries: Iterable) -> None:
    """Writes TensorFlow ``Summary`` protos into an event file of ``logdir`` with TensorBoard's writer."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(logdir))
    for step, summary in enumerate(summaries):
        if not isinstance(summary, summary_pb2.Summary):
            summary = summary_pb2.Summary.FromString(summary.SerializeToString())
        writer.add_event(event_pb2.Event(step=step, summary=summary))
    writer.close()


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
    """(Re)writes ``run_dir/tensorboard/`` from the run's tables; returns that directory."""
    from tensorboard.plugins.hparams import api_pb2
    from tensorboard.plugins.hparams import summary as hparams_summary

    from bench.store.rundir import RunDir

    run = RunDir(run_dir)
    trials, final, baseline = run.read("trials"), run.read("final"), run.read("baseline")
    logdir = Path(run_dir) / TENSORBOARD_DIR
    if logdir.exists():
        shutil.rmtree(logdir)  # rebuilt whole: a rerun must not keep sessions of an earlier report
    logdir.mkdir(parents=True)
    found = sessions(trials, final, baseline)
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
    _events(logdir, [hparams_summary.experiment_pb(infos, metrics)])
    for session in found:
        hparams = {k: _clean(v) for k, v in session["hparams"].items()}
        summaries = [hparams_summary.session_start_pb(hparams=hparams, group_name=session["name"])]
        summaries += [_scalar(tag, value) for tag, value in session["metrics"].items() if math.isfinite(value)]
        summaries.append(hparams_summary.session_end_pb(api_pb2.STATUS_SUCCESS))
        _events(logdir / session["name"], summaries)
    return logdir
