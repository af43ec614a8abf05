"""``--seeds auto``: rounds of seeds where a verdict against the reference is still open.

After every cell has its first :data:`bench.stats.sequential.START` seeds, each comparison of
a family with the reference at one budget is replayed through the looks of
:mod:`bench.stats.sequential` on the seeds stored so far (its first n seeds at the look at n):
a comparison still open at a look whose seeds are not all trained asks for them, on the
family and on the reference. A round trains what the open comparisons ask for; the next
round replays again, until none asks. Every decision is a function of stored rows alone, so
a killed run resumes to the same rounds, and any ``--jobs`` makes the same ones.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Tuple

from bench.stats import REFERENCE
from bench.stats.outcomes import cell_outcomes, paired_evidence
from bench.stats.sequential import START, replay
from bench.stats.verdicts import ALPHA
from bench.store import RunDir
from bench.store.correct import bits_by_cell

Cell = Tuple[str, int]


def stored_cells(run: RunDir, images: int) -> Dict[Cell, object]:
    """(family, budget) → the outcomes of its completed final seeds."""
    final, bits = run.read("final"), bits_by_cell(run.read("correct"), "final")
    done = final[final["status"] == "completed"]
    return {(str(f), int(b)): cell_outcomes(rows, images, bits.get((str(f), int(b))))
            for (f, b), rows in done.groupby(["family", "budget"], sort=False)}


def seed_targets(run: RunDir, config, images: int) -> Dict[Cell, int]:
    """(family, budget) → the final seeds it needs now: :data:`START`, or more where an open
    comparison asks (the reference gets the most any of its budget's comparisons asks)."""
    cells = stored_cells(run, images)
    pairs = [(f, b) for f in config.families if f != REFERENCE for b in config.budgets
             if (f, b) in cells and (REFERENCE, b) in cells]
    level = ALPHA / max(len(pairs), 1)
    targets = {cell: START for cell in cells}
    for family, budget in pairs:
        a, b = cells[(family, budget)], cells[(REFERENCE, budget)]
        stop = replay(lambda n: paired_evidence(a, b, first=n), config.max_seeds, config.margin / 100, level)
        if stop["status"] == "pending":
            targets[(family, budget)] = max(targets[(family, budget)], stop["seeds"])
            targets[(REFERENCE, budget)] = max(targets[(REFERENCE, budget)], stop["seeds"])
    return targets


def open_cells(run: RunDir, config, images: int) -> List[Tuple[str, int, int]]:
    """(family, budget, seeds it needs) of every cell whose final seeds fall short of its target."""
    have = {cell: outcomes.n for cell, outcomes in stored_cells(run, images).items()}
    return [(f, b, n) for (f, b), n in seed_targets(run, config, images).items() if have.get((f, b), 0) < n]


def rounds(run: RunDir, config, images: int, train_round: Callable[[List[Tuple[str, int, int]]], None],
           progress=None) -> int:
    """Adds final seeds in rounds while comparisons are open: each round hands
    ``train_round`` every (family, budget, seeds it needs) short of its target. Returns the
    number of rounds this process ran."""
    count = 0
    while todo := open_cells(run, config, images):
        count += 1
        stored = stored_cells(run, images)
        missing = sum(n - (stored[(f, b)].n if (f, b) in stored else 0) for f, b, n in todo)
        if progress is not None:
            progress.plan(missing)
        print(f"wsbench: --seeds auto: {missing} more seeds for the open comparisons: "
              + ", ".join(f"{f} @ {b:,} → {n}" for f, b, n in todo), flush=True)
        train_round(todo)
    return count
