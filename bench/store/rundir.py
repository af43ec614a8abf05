"""A run's directory, ``results/<run>/``, and every file in it.

run.json, the tables (trials, final, throughput), the saved models, keras-tuner's state and
the writer lock all go through :class:`RunDir`. Every file is written atomically; tables are
rewritten whole under a lock of their own, so the ``--jobs`` processes of one run can append
side by side, and a row whose key is already present is never written twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional

import pandas as pd

from bench.store.atomic import write_atomic, write_csv_atomic, write_text_atomic
from bench.store.lock import RESUME_ADVICE, RunLock
from bench.store.schema import MODELS_DIR, RUN_JSON, TABLES
from bench.store.tables import ResultsError, corrupted, frame_keys, read_table, row_key, rows_frame


@contextlib.contextmanager
def _file_lock(path: Path):
    """Holds an exclusive lock on the directory of ``path`` while the file is read and rewritten.

    Locking the directory itself (Linux and the BSDs lock a directory like a file) leaves no
    lock file behind, whatever happens to the process; the files of one run are rewritten
    one at a time anyway."""
    fd = os.open(Path(path).parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class RunDir:
    """The directory of one run.

    Args:
        path: ``results/<run>`` (created by the first write).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock = RunLock(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    # -- the writer lock -------------------------------------------------------------------
    def writer(self, command: str = "", advice: str = RESUME_ADVICE):
        """Context manager holding the run's writer lock (see :class:`bench.store.lock.RunLock`)."""
        return self.lock.held(command, advice)

    def holder(self) -> Optional[Dict[str, Any]]:
        """The process writing this run now, or None."""
        return self.lock.holder()

    # -- run.json --------------------------------------------------------------------------
    @property
    def run_json(self) -> Path:
        return self.path / RUN_JSON

    def read_run(self) -> Dict[str, Any]:
        try:
            meta = json.loads(self.run_json.read_text())
        except FileNotFoundError:
            raise ResultsError(f"{self.run_json} is missing: {self.path} is not a wsbench run.") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise corrupted(self.run_json, str(exc)) from None
        if not isinstance(meta, dict):
            raise corrupted(self.run_json, "not a JSON object")
        return meta

    def write_run(self, meta: Dict[str, Any]) -> None:
        write_text_atomic(self.run_json, json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n")

    def update_run(self, **fields) -> None:
        with _file_lock(self.run_json):
            meta = self.read_run()
            meta.update(fields)
            self.write_run(meta)

    # -- tables ----------------------------------------------------------------------------
    def table_path(self, table: str) -> Path:
        return self.path / TABLES[table].file_name

    def has(self, table: str) -> bool:
        return self.table_path(table).is_file()

    def read(self, table: str) -> pd.DataFrame:
        """The table (an empty one with the schema's columns when the run has none yet).

        Raises:
            ResultsError: the file is corrupted.
        """
        return read_table(self.table_path(table), TABLES[table])

    def require(self, table: str, hint: str = "") -> pd.DataFrame:
        """The table, which must exist.

        Raises:
            ResultsError: the file is missing (``hint`` says what makes it) or corrupted.
        """
        if not self.has(table):
            raise ResultsError(f"{str(self.table_path(table))!r} is missing{': ' + hint if hint else ''}.")
        return self.read(table)

    def keys(self, table: str) -> set:
        return frame_keys(self.read(table), TABLES[table])

    def append(self, table: str, rows: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Appends the rows whose key is not yet in ``table``; returns the rows written."""
        spec, path = TABLES[table], self.table_path(table)
        self.path.mkdir(parents=True, exist_ok=True)
        with _file_lock(path):
            frame = read_table(path, spec)
            present = frame_keys(frame, spec)
            fresh = []
            for row in rows:
                key = row_key(row, spec)
                if key not in present:
                    present.add(key)
                    fresh.append({c: row.get(c) for c in spec.columns})
            if fresh:
                new = rows_frame(fresh, spec)
                write_csv_atomic(new if frame.empty else pd.concat([frame[list(spec.columns)], new],
                                                                   ignore_index=True), path)
        return fresh

    def discard(self, table: str, drop: Callable[[pd.DataFrame], "pd.Series"]) -> int:
        """Removes the rows of ``table`` for which ``drop(frame)`` is True (so a resumed run
        writes them again); returns how many were removed."""
        spec, path = TABLES[table], self.table_path(table)
        if not path.exists():
            return 0
        with _file_lock(path):
            frame = read_table(path, spec)
            mask = drop(frame).astype(bool) if len(frame) else pd.Series(dtype=bool)
            if mask.any():
                write_csv_atomic(frame.loc[~mask, list(spec.columns)], path)
            return int(mask.sum())

    # -- models ----------------------------------------------------------------------------
    def model_path(self, family: str, budget: int) -> Path:
        """Where the best model of ``family`` at ``budget`` is kept: models/<family>__<budget>.keras."""
        return self.path / MODELS_DIR / f"{family}__{int(budget)}.keras"

    def save_model(self, model, family: str, budget: int) -> Path:
        path = self.model_path(family, budget)
        write_atomic(path, lambda tmp: model.save(tmp))
        return path

    # -- keras-tuner's state ---------------------------------------------------------------
    @property
    def tuner_dir(self) -> Path:
        return self.path / "tuner"

    def check_tuner_state(self) -> None:
        """Refuses keras-tuner state (oracle.json, tuner*.json, trial_*/trial.json) that does not
        parse, naming the file; keras-tuner itself would fail later, unnamed and after run.json
        had been touched."""
        paths = sorted(self.tuner_dir.glob("*/*.json")) + sorted(self.tuner_dir.glob("*/trial_*/trial.json"))
        for path in paths:
            try:
                state = json.loads(path.read_text())
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ResultsError(f"{path} is corrupted ({type(exc).__name__}: {exc}); move the run away or give a "
                                   f"new --run-name.") from None
            needed = {"trial_id", "hyperparameters", "status"} if path.name == "trial.json" else set()
            if not isinstance(state, dict) or not needed <= set(state):
                raise ResultsError(f"{path} is corrupted: expected a JSON object"
                                   + (f" with keys {sorted(needed)}" if needed else "")
                                   + "; move the run away or give a new --run-name.")
