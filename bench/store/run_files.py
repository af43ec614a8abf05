"""Reading a stored run directory (``results/<run>/``) with errors that name what is missing.

Used by the throughput re-measurement and the report, which both read results only. The
column lists are the results schema of DESIGN.md; a file missing a column is reported by name.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Dict, List, Sequence

import pandas as pd

RUN_JSON = "run.json"
TRIALS_CSV = "trials.csv"
FINAL_CSV = "final.csv"
THROUGHPUT_CSV = "throughput.csv"
MODELS_DIR = "models"

TRIALS_COLUMNS = ["run_id", "dataset", "family", "budget", "trial_index", "trial_id", "status", "reason", "hp",
                  "width", "params", "val_accuracy", "val_loss", "epochs", "wall_s"]
FINAL_COLUMNS = ["run_id", "dataset", "family", "budget", "seed", "status", "reason", "best_hp", "width", "params",
                 "test_accuracy", "test_loss", "epochs", "train_s"]
THROUGHPUT_COLUMNS = ["run_id", "family", "budget", "params", "macs_per_image", "batch",
                      "train_img_s", "train_img_s_min", "train_img_s_max",
                      "infer_img_s", "infer_img_s_min", "infer_img_s_max",
                      "latency_ms_b1", "latency_ms_b1_min", "latency_ms_b1_max",
                      "peak_rss_mb", "repeats", "device"]
COLUMNS: Dict[str, List[str]] = {TRIALS_CSV: TRIALS_COLUMNS, FINAL_CSV: FINAL_COLUMNS,
                                 THROUGHPUT_CSV: THROUGHPUT_COLUMNS}


class RunFilesError(ValueError):
    """A run directory that does not exist, or lacks a file or column the reader needs."""


def list_runs(results_dir: Path) -> List[str]:
    """Names of the subdirectories of ``results_dir`` that hold a run.json, sorted."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        return []
    return sorted(p.name for p in results_dir.iterdir() if (p / RUN_JSON).is_file())


def check_run_dir(run_dir: Path) -> Path:
    """Returns ``run_dir`` as a Path if it is a directory.

    Raises:
        RunFilesError: naming the directory and the runs that do exist beside it.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        known = list_runs(run_dir.parent)
        raise RunFilesError(
            f"unknown run: {str(run_dir)!r} is not a directory; runs in {str(run_dir.parent)!r}: "
            f"{known if known else 'none'}."
        )
    return run_dir


def read_run_json(run_dir: Path) -> dict:
    """The parsed run.json of ``run_dir``.

    Raises:
        RunFilesError: the directory or the file is missing, or the file is not valid JSON.
    """
    path = check_run_dir(run_dir) / RUN_JSON
    if not path.is_file():
        raise RunFilesError(f"{str(path)!r} is missing: the run directory has no {RUN_JSON}.")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise RunFilesError(f"{str(path)!r} is not valid JSON: {exc}.") from exc


def read_table(run_dir: Path, name: str, *, hint: str = "") -> pd.DataFrame:
    """Reads one of the run's CSV tables and checks it has every schema column.

    Args:
        run_dir: the run directory.
        name: ``trials.csv``, ``final.csv`` or ``throughput.csv``.
        hint: appended to the missing-file message (e.g. the command that makes the file).

    Raises:
        RunFilesError: the file is missing, or it lacks schema columns (named).
    """
    path = check_run_dir(run_dir) / name
    if not path.is_file():
        raise RunFilesError(f"{str(path)!r} is missing{': ' + hint if hint else ''}.")
    table = pd.read_csv(path)
    missing = [c for c in COLUMNS.get(name, []) if c not in table.columns]
    if missing:
        raise RunFilesError(f"{str(path)!r} lacks the columns {missing}.")
    return table


def model_path(run_dir: Path, family: str, budget) -> Path:
    """Where the best model of ``family`` at ``budget`` is stored: models/<family>__<budget>.keras."""
    return Path(run_dir) / MODELS_DIR / f"{family}__{budget_label(budget)}.keras"


def budget_label(budget) -> str:
    """A budget as written in file names and tables: integral numbers without '.0'."""
    value = float(budget)
    return str(int(value)) if value.is_integer() else str(budget)


def file_mode() -> int:
    """The mode a plain new file gets under the current umask (mkstemp's files are 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_text_atomic(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())  # the rename must never expose an empty file after a crash
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv_atomic(table: pd.DataFrame, path: Path, columns: Sequence[str] | None = None) -> None:
    """Writes ``table`` to ``path`` through a temporary file in the same directory and
    ``os.replace``, so a reader (or a crash) never sees a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            table.to_csv(handle, index=False, columns=list(columns) if columns else None)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
