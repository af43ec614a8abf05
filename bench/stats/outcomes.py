"""What a cell's models got right on the test split, as the statistics need it.

A cell (one family at one budget, in one stage: the tuned ``final`` or the untuned
``baseline``) has one row per seed in final.csv / baseline.csv and, in runs that keep them,
one row per seed in correct.csv saying which test images that model got right. Every test
works on whole numbers of correct images: ``correct`` is a count, not a rounded fraction
(rows of runs made before the count was stored give it back as round(accuracy × images),
exact for any accuracy a model on ``images`` images can have).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Sequence

import numpy as np
import pandas as pd

from bench.stats.twoway import Evidence, from_matrix, from_per_seed


@dataclass
class Outcomes:
    """Per seed, how many (and, when kept, which) test images a cell's models got right.

    Attributes:
        seeds: the training seeds, ascending.
        correct: correct test images per seed (ints), in the order of ``seeds``.
        images: the size of the test split.
        matrix: (seeds × images) booleans, or None when the run kept no per-image results
            for every one of these seeds.
    """

    seeds: list
    correct: np.ndarray
    images: int
    matrix: Optional[np.ndarray] = None

    @property
    def n(self) -> int:
        return len(self.seeds)

    def first(self, n: int) -> "Outcomes":
        """The outcomes of the ``n`` lowest seeds only."""
        return Outcomes(self.seeds[:n], self.correct[:n], self.images,
                        None if self.matrix is None else self.matrix[:n])


def cell_outcomes(rows: pd.DataFrame, images: int, bits: Optional[Dict[int, np.ndarray]] = None) -> Outcomes:
    """The outcomes of a cell's completed rows (one per seed).

    Args:
        rows: the cell's rows of final.csv or baseline.csv (status 'completed').
        images: the test split's size.
        bits: seed → which test images that seed's model got right (from correct.csv), if kept.
    """
    seeds = sorted(int(float(s)) for s in rows["seed"])
    by_seed = {int(float(s)): r for s, r in zip(rows["seed"], rows.to_dict("records"))}
    counts = []
    for seed in seeds:
        row = by_seed[seed]
        stored = row.get("test_correct")
        counts.append(int(stored) if stored is not None and not pd.isna(stored)
                      else int(round(float(row["test_accuracy"]) * images)))
    matrix = None
    if bits is not None and all(seed in bits for seed in seeds) and seeds:
        matrix = np.stack([np.asarray(bits[seed], dtype=bool) for seed in seeds])
    return Outcomes(seeds, np.asarray(counts, dtype=np.int64), int(images), matrix)


def accuracy_evidence(cell: Outcomes) -> Evidence:
    """A cell's mean test accuracy with its spread over seeds (and images, when kept)."""
    if cell.matrix is not None:
        return from_matrix(cell.matrix)
    return from_per_seed(cell.correct / cell.images)


def paired_evidence(a: Outcomes, b: Outcomes, first: Optional[int] = None) -> Optional[Evidence]:
    """The paired difference a − b over the seeds both trained (the ``first`` lowest of them
    only, if given); over seeds and images when both kept per-image results, else over seeds.
    None without a common seed, or with fewer than ``first``."""
    common = sorted(set(a.seeds) & set(b.seeds))
    if first is not None:
        if len(common) < first:
            return None
        common = common[:first]
    if not common:
        return None
    ia, ib = _index(a.seeds, common), _index(b.seeds, common)
    if a.matrix is not None and b.matrix is not None:
        return from_matrix(a.matrix[ia].astype(np.int8) - b.matrix[ib].astype(np.int8))
    return from_per_seed((a.correct[ia] - b.correct[ib]) / a.images)


def _index(seeds: Sequence[int], wanted: Sequence[int]) -> np.ndarray:
    position = {s: i for i, s in enumerate(seeds)}
    return np.asarray([position[s] for s in wanted], dtype=int)
