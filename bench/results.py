"""The run directory: run.json and tidy tables, written atomically and resumable.

Every table is rewritten whole through a temporary file and ``os.replace`` under an
exclusive lock, so a kill at any moment leaves either the old or the new file, and
several processes (distributed workers) can append safely. Rows carry key columns; a row
whose key is already present is not written again, which makes reruns idempotent.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence

import pandas as pd

from bench.run_files import FINAL_COLUMNS, TRIALS_COLUMNS, write_text_atomic

TRIALS_KEY = ["family", "budget", "trial_id"]
FINAL_KEY = ["family", "budget", "seed"]
TABLES = {"trials": (TRIALS_COLUMNS, TRIALS_KEY), "final": (FINAL_COLUMNS, FINAL_KEY)}


class ResultsError(ValueError):
    """A results directory that cannot be used: unwritable, corrupted, or another run's."""


def check_run_name(name: str) -> str:
    """Returns ``name`` if it can be a directory name under results/, else raises."""
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name \
            or (os.altsep and os.altsep in name) or "\0" in name:
        raise ResultsError(f"run name {name!r} is not accepted: use a plain name without path separators.")
    return name


@contextlib.contextmanager
def locked(path: Path):
    """Holds an exclusive lock on ``path``.lock for the duration."""
    lock = Path(str(path) + ".lock")
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_table(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """Reads a results table, checking it has the expected columns.

    Raises:
        ResultsError: if the file is not a readable CSV with those columns.
    """
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=list(columns))
    try:
        text = path.read_text()
        _check_complete_rows(path, text)
        frame = pd.read_csv(io.StringIO(text), dtype={"trial_id": str})
    except ResultsError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure means a corrupted file
        raise ResultsError(f"{path} is corrupted ({type(exc).__name__}: {exc}); move it away or use a new run name.") \
            from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ResultsError(f"{path} is corrupted: columns {missing} are missing; move it away or use a new run name.")
    return frame


def _check_complete_rows(path: Path, text: str) -> None:
    """Raises ResultsError if a row of the CSV ``text`` is cut short or has extra fields.

    Tables are only ever written whole and end with a newline, so a missing final newline
    or a row whose field count differs from the header's means the file was damaged;
    pandas would silently pad such a row with NaN.
    """
    if text and not text.endswith("\n"):
        raise ResultsError(f"{path} is corrupted: its last row is cut short (no final newline); move it away or "
                           f"use a new run name.")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    for row in reader:
        if len(row) != len(header):
            raise ResultsError(f"{path} is corrupted: line {reader.line_num} has {len(row)} fields, the header "
                               f"{len(header)}; move it away or use a new run name.")


def _key(row: Dict[str, Any], key: Sequence[str]) -> tuple:
    return tuple(str(row[k]) for k in key)


class RunDir:
    """One run's directory ``results/<run>/``.

    Args:
        path: the directory (created on :meth:`create`).
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    # -- run.json --------------------------------------------------------------------------
    @property
    def run_json(self) -> Path:
        return self.path / "run.json"

    def read_run(self) -> Dict[str, Any]:
        try:
            return json.loads(self.run_json.read_text())
        except FileNotFoundError:
            raise ResultsError(f"{self.run_json} is missing: {self.path} is not a wsbench run.") from None
        except json.JSONDecodeError as exc:
            raise ResultsError(f"{self.run_json} is corrupted ({exc}); move it away or use a new run name.") from None

    def write_run(self, meta: Dict[str, Any]) -> None:
        write_text_atomic(self.run_json, json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n")

    def update_run(self, **fields) -> None:
        with locked(self.run_json):
            meta = self.read_run()
            meta.update(fields)
            self.write_run(meta)

    # -- tables ----------------------------------------------------------------------------
    def table_path(self, table: str) -> Path:
        return self.path / f"{table}.csv"

    def read(self, table: str) -> pd.DataFrame:
        columns, _ = TABLES[table]
        return read_table(self.table_path(table), columns)

    def keys(self, table: str) -> set:
        _, key = TABLES[table]
        frame = self.read(table)
        return {tuple(str(v) for v in row) for row in frame[key].itertuples(index=False)}

    def append(self, table: str, rows: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Appends the rows whose key is not yet in ``table``; returns the rows written."""
        columns, key = TABLES[table]
        path = self.table_path(table)
        with locked(path):
            frame = read_table(path, columns)
            present = {tuple(str(v) for v in row) for row in frame[key].itertuples(index=False)}
            fresh = []
            for row in rows:
                k = _key(row, key)
                if k not in present:
                    present.add(k)
                    fresh.append({c: row.get(c) for c in columns})
            if fresh:
                new = pd.DataFrame(fresh, columns=columns)
                out = new if frame.empty else pd.concat([frame[columns], new], ignore_index=True)
                write_text_atomic(path, out.to_csv(index=False))
        return fresh
