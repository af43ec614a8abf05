"""The runs of a results directory: their names, the newest one, and finding one by name."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import List, Optional

from bench.store.schema import RUN_JSON
from bench.store.tables import ResultsError


def check_run_name(name: str) -> str:
    """Returns ``name`` if it can be a directory name under results/, else raises ResultsError."""
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name \
            or (os.altsep and os.altsep in name) or "\0" in name:
        raise ResultsError(f"run name {name!r} is not accepted: use a plain name without path separators.")
    return name


def check_writable(results_dir: Path) -> None:
    """Raises ResultsError unless ``results_dir`` (or its nearest existing parent) is writable.

    Writability is tried, not inferred from permission bits: root passes every ``os.access``
    check, yet cannot create files in /proc or on a read-only mount. The probe directory is
    removed at once, so a refused or accepted check leaves nothing behind.
    """
    probe = Path(results_dir).resolve()
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ResultsError(f"results directory {results_dir} is not writable: {probe} is a file, not a directory; "
                           f"give a writable --results-dir.")
    try:
        os.rmdir(tempfile.mkdtemp(dir=probe, prefix=".wsbench-probe-"))
    except OSError as exc:
        raise ResultsError(f"results directory {results_dir} is not writable: cannot create anything in {probe} "
                           f"({exc.strerror}); give a writable --results-dir.") from None


def list_runs(results_dir: Path) -> List[str]:
    """Names of the subdirectories of ``results_dir`` that hold a run.json, sorted."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        return []
    return sorted(p.name for p in results_dir.iterdir() if (p / RUN_JSON).is_file())


def newest_run(results_dir: Path) -> Path:
    """The run in ``results_dir`` that started last (run.json's ``started``, then the
    directory's modification time).

    Raises:
        ResultsError: ``results_dir`` does not exist or holds no run.
    """
    from bench.store.rundir import RunDir

    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ResultsError(f"results directory {str(results_dir)!r} does not exist: run `make bench` first, or "
                           f"name the directory that holds your runs.")
    runs = []
    for name in list_runs(results_dir):
        path = results_dir / name
        try:
            started = str(RunDir(path).read_run().get("started") or "")
        except ResultsError:
            started = ""
        runs.append((started, path.stat().st_mtime, name, path))
    if not runs:
        raise ResultsError(f"no run in {str(results_dir)!r} (no subdirectory holds a {RUN_JSON}): run `make bench` "
                           f"first.")
    return max(runs)[3]


def resolve_run(results_dir: Path, run: Optional[str]) -> Path:
    """The run directory for ``run`` (a name under ``results_dir`` or a path); the newest
    run when ``run`` is None or empty.

    Raises:
        ResultsError: the run does not exist (naming the runs that do).
    """
    if not run:
        return newest_run(results_dir)
    candidate = Path(run)
    if not candidate.is_dir():
        candidate = Path(results_dir) / run
    if not candidate.is_dir():
        known = list_runs(results_dir)
        raise ResultsError(f"unknown run {run!r}: neither {run!r} nor {str(Path(results_dir) / run)!r} is a "
                           f"directory; runs in {str(results_dir)!r}: {known if known else 'none'}.")
    return candidate
