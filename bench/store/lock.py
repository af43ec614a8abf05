"""One writer per run: an exclusive ``flock`` on ``results/<run>/run.lock``.

The kernel drops an ``flock`` when its process dies, however it dies, so a killed run never
leaves a stale lock behind. The holder writes its pid, host, command and start time into
the file, for the message a refused process prints.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Any, Dict, Optional

from bench.store.tables import ResultsError

RUN_LOCK = "run.lock"
#: How long a writer waits for the lock before calling the run busy. A reader checking
#: whether a run is in progress holds a shared lock for microseconds; this outlasts that.
PATIENCE_S = 2.0
RESUME_ADVICE = "wait for it to end, or stop it (kill {pid}) and rerun this command to resume; or give another --run-name."


class RunInUse(ResultsError):
    """Another process holds a run's writer lock."""


class RunLock:
    """The writer lock of the run directory ``run_dir``."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / RUN_LOCK

    @contextlib.contextmanager
    def held(self, command: str = "", advice: str = RESUME_ADVICE):
        """Holds the lock while the block runs.

        Args:
            command: recorded in the lock file, for the message another process gets.
            advice: what that message tells the other process to do (formatted with ``pid``).

        Raises:
            RunInUse: another process holds it; the message names that process.
        """
        self.run_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            deadline = time.monotonic() + PATIENCE_S
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise RunInUse(self.busy_message(self._recorded(), advice)) from None
                    time.sleep(0.05)
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                                     "since": dt.datetime.now().isoformat(timespec="seconds")}) + "\n")
            handle.flush()
            yield
        finally:
            handle.close()  # closing the file releases the lock

    def holder(self) -> Optional[Dict[str, Any]]:
        """The details of the process holding the lock now, or None when no process does.

        Probes with a shared lock, which conflicts only with a writer's exclusive one."""
        if not self.path.exists():
            return None
        with open(self.path) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return self._recorded()
        return None

    def busy_message(self, info: Dict[str, Any], advice: str = RESUME_ADVICE) -> str:
        """Names the run, the process holding it, and what to do."""
        pid, host = info.get("pid", "?"), info.get("host", "?")
        since = f", since {info['since']}" if info.get("since") else ""
        return (f"run {self.run_dir.name!r} in {self.run_dir.parent} is being written by another wsbench process "
                f"(pid {pid} on host {host}{since}): " + advice.format(pid=pid))

    def _recorded(self) -> Dict[str, Any]:
        """What the lock file says about its holder (it writes that just after locking)."""
        for _ in range(20):
            try:
                info = json.loads(self.path.read_text() or "null")
            except (OSError, json.JSONDecodeError):
                info = None
            if isinstance(info, dict):
                return info
            time.sleep(0.05)
        return {}
