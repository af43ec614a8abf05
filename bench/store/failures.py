"""What failed in a run: trials, and the tuned or plain-recipe result of a cell, whose layer raised.

A family whose layer raises while a model is being built or trained does not stop a run: the
trial is recorded as ``failed`` with the error's type and message (trials.csv), and so is a
final or baseline stage that cannot train (final.csv / baseline.csv, a row with the reason).
``wsbench bench`` ends with a non-zero exit naming them, the report names them, and
rerunning the command retrains exactly these (see :mod:`bench.run.containment`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

from bench.store.rundir import RunDir

FAILED = "failed"

#: The stage tables, and what the report and the printed summary call each.
STAGE_TABLES = (("final", "tuned"), ("baseline", "plain recipe"))


@dataclass(frozen=True)
class Failure:
    """One failed trial, or one failed stage of a cell.

    Attributes:
        family, budget: the cell.
        what: ``'trial <id>'``, ``'tuned'`` (final.csv) or ``'plain recipe'`` (baseline.csv).
        reason: the error's type and message, as recorded.
    """

    family: str
    budget: int
    what: str
    reason: str

    @property
    def cell(self) -> str:
        return f"{self.family} @ {self.budget:,}"

    @property
    def stage(self) -> bool:
        """Whether a whole stage of the cell has no result (not just one of its trials)."""
        return not self.what.startswith("trial")


def run_failures(run: RunDir) -> List[Failure]:
    """Every failed trial and failed stage row of ``run``, cell by cell in table order."""
    out = []
    trials = run.read("trials")
    for row in trials[trials["status"] == FAILED].itertuples(index=False):
        out.append(Failure(str(row.family), int(row.budget), f"trial {row.trial_id}", _text(row.reason)))
    for table, what in STAGE_TABLES:
        frame = run.read(table)
        for row in frame[frame["status"] == FAILED].itertuples(index=False):
            out.append(Failure(str(row.family), int(row.budget), what, _text(row.reason)))
    return out


def failed_cells(failures: List[Failure]) -> List[Tuple[str, int]]:
    """(family, budget) of the cells with a failed stage or trial, in first-seen order."""
    return list(dict.fromkeys((f.family, f.budget) for f in failures))


def failure_lines(failures: List[Failure]) -> List[str]:
    """One line per cell: its failed trials, then its failed stages, each with the reason."""
    lines = []
    for family, budget in failed_cells(failures):
        mine = [f for f in failures if (f.family, f.budget) == (family, budget)]
        trials = [f for f in mine if not f.stage]
        parts = [f"{len(trials)} trial{'s' if len(trials) > 1 else ''} failed "
                 f"({', '.join(f.what.split()[1] for f in trials)}): "
                 f"{'; '.join(dict.fromkeys(f.reason for f in trials))}"] if trials else []
        parts += [f"{f.what}: {f.reason}" for f in mine if f.stage]
        lines.append(f"{family} @ {budget:,}: " + "; ".join(parts))
    return lines


def _text(value) -> str:
    return "" if value is None or value != value else str(value)
