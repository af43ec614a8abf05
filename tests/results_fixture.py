"""The stored results fixture (tests/fixtures/run_small/), copied for tests that write into it."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURE_RUN = Path(__file__).resolve().parent / "fixtures" / "run_small"


def copy_fixture_run(dest_parent: Path, name: str = "run_small") -> Path:
    """Copies the fixture run into ``dest_parent/name`` and returns that path."""
    dest = Path(dest_parent) / name
    shutil.copytree(FIXTURE_RUN, dest)
    return dest
