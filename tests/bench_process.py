"""Real `wsbench` processes for the end-to-end tests: started, awaited, and their tables read."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pandas as pd

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", WSBENCH_DISABLE_PLUGINS="1")
REPO = Path(__file__).resolve().parent.parent


def start(*args: str, results_dir: Optional[Path] = None, cwd: Optional[Path] = None,
          env: Optional[dict] = None) -> subprocess.Popen:
    """Starts ``wsbench <args> [--results-dir results_dir]`` with its output piped (text);
    ``env`` adds variables (e.g. KERAS_BACKEND) to the test process's environment."""
    extra = ["--results-dir", str(results_dir)] if results_dir is not None else []
    # The repository on PYTHONPATH: from another working directory `-m bench.cli` still finds it.
    env = dict(ENV, **(env or {}), PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), ENV.get("PYTHONPATH")])))
    return subprocess.Popen([sys.executable, "-m", "bench.cli", *args, *extra], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen, timeout: float = 600) -> str:
    """Waits for ``proc`` and returns its output; kills it if it overruns."""
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return out


def table(run_dir: Path, name: str) -> pd.DataFrame:
    """``run_dir/<name>.csv`` with the key columns as strings (empty if it does not exist)."""
    path = Path(run_dir) / f"{name}.csv"
    if not path.exists():
        return pd.DataFrame()
    return pd.read_csv(path, dtype={"trial_id": str, "seed": str, "budget": str})


def wait_for_rows(path: Path, n: int, proc: subprocess.Popen, timeout: float = 300) -> None:
    """Returns once the CSV at ``path`` has ``n`` rows; raises if ``proc`` ends first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and len(pd.read_csv(path)) >= n:
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before {path.name} had {n} rows: {proc.stdout.read()}")
        time.sleep(0.1)
    raise AssertionError(f"{path.name} never reached {n} rows")
