"""The run directory: run.json and tidy tables, written atomically and resumable.

Every table is rewritten whole through a temporary file and ``os.replace`` under an
exclusive lock, so a kill at any moment leaves either the old or the new file, and
several processes (distributed workers) can append safely. Rows carry key columns; a row
whose key is already present is not written again, which makes reruns idempotent.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import fcntl
import io
import json
import os
import socket
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

import pandas as pd

from bench.store.run_files import FINAL_COLUMNS, TRIALS_COLUMNS, write_text_atomic

TRIALS_KEY = ["family", "budget", "trial_id"]
FINAL_KEY = ["family", "budget", "seed"]
TABLES = {"trials": (TRIALS_COLUMNS, TRIALS_KEY), "final": (FINAL_COLUMNS, FINAL_KEY)}


#: The file whose exclusive lock marks the one process writing a run.
RUN_LOCK = "run.lock"
#: How long a writer waits for the run lock before calling the run busy. A reader checking
#: whether a run is in progress holds a shared lock for microseconds; this outlasts that.
LOCK_PATIENCE_S = 2.0
RESUME_ADVICE = ("wait for it to end, or stop it (kill {pid}) and rerun this command to resume; or give another "
                 "--run-name.")


class ResultsError(ValueError):
    """A results directory that cannot be used: unwritable, corrupted, or another run's."""


class RunInUse(ResultsError):
    """Another process holds a run's writer lock."""


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

    # -- the writer lock ---------------------------------------------------------------------
    @property
    def lock_path(self) -> Path:
        return self.path / RUN_LOCK

    @contextlib.contextmanager
    def writer(self, command: str = "", advice: str = RESUME_ADVICE):
        """Holds the run's exclusive writer lock while the block runs.

        One process writes a run: a single-process bench, or the chief (its ``--jobs`` and
        local ``--workers`` processes are its children and only append rows under each
        table's own lock). The lock is an ``flock`` on ``run.lock``: the kernel drops it when
        its process dies, however it dies, so a killed run can be resumed at once.

        Args:
            command: recorded in the lock file, for the message another process gets.
            advice: what that message tells the other process to do.

        Raises:
            RunInUse: another process holds it; the message names that process.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        handle = open(self.lock_path, "a+")
        try:
            deadline = time.monotonic() + LOCK_PATIENCE_S
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise RunInUse(self.busy_message(self.holder_info(), advice)) from None
                    time.sleep(0.05)
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                                     "since": dt.datetime.now().isoformat(timespec="seconds")}) + "\n")
            handle.flush()
            yield
        finally:
            handle.close()  # closing the file releases the lock

    def holder_info(self) -> Dict[str, Any]:
        """What the lock file says about the process that holds (or last held) the lock."""
        for _ in range(20):  # the holder writes its details just after taking the lock
            try:
                info = json.loads(self.lock_path.read_text() or "null")
            except (OSError, json.JSONDecodeError):
                info = None
            if isinstance(info, dict):
                return info
            time.sleep(0.05)
        return {}

    def holder(self) -> Optional[Dict[str, Any]]:
        """The details of the process writing this run now, or None when no process is.

        Probes with a shared lock, which conflicts only with a writer's exclusive one."""
        if not self.lock_path.exists():
            return None
        with open(self.lock_path) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return self.holder_info()
        return None

    def busy_message(self, info: Dict[str, Any], advice: str = RESUME_ADVICE) -> str:
        """Names the run, the process holding it, and what to do (``advice``, formatted
        with ``pid``)."""
        pid, host = info.get("pid", "?"), info.get("host", "?")
        since = f", since {info['since']}" if info.get("since") else ""
        return (f"run {self.path.name!r} in {self.path.parent} is being written by another wsbench process "
                f"(pid {pid} on host {host}{since}): " + advice.format(pid=pid))

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
