"""Writing a file so that a reader, or a crash, never sees it half-written.

Every file of a run is written the same way: into a temporary file in the same directory,
flushed to disk, given the permissions a plain new file gets under the umask, then renamed
over the target with ``os.replace`` (atomic on one file system).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import pandas as pd


def file_mode() -> int:
    """The mode a plain new file gets under the current umask (mkstemp's files are 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Calls ``write(tmp)`` to fill a temporary file beside ``path``, then renames it to ``path``.

    The temporary file keeps ``path``'s suffix, so writers that dispatch on it (Keras's
    ``model.save``) work. On any error the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix or ".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())  # the rename must never expose an empty file after a crash
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` atomically."""
    write_atomic(path, lambda tmp: tmp.write_text(text))


def write_csv_atomic(table: pd.DataFrame, path: Path) -> None:
    """Writes ``table`` (without its index) to ``path`` atomically."""
    write_atomic(path, lambda tmp: table.to_csv(tmp, index=False))
