"""The accuracy–throughput Pareto front, decided only by differences the data resolve.

Two cells (family × budget) are compared on

- **accuracy as whole test images**: each final seed's test accuracy × the test split's size,
  rounded to a whole number of images, summed over the cell's seeds. Rates of correct images
  are compared exactly, in integers (``correct_A · images_B >= correct_B · images_A``), so two
  cells with the same count tie, however their float means happen to round;
- **throughput as an interval**: the slowest and fastest of the interleaved timing rounds.
  A is *faster* than B only when A's slowest round beats B's fastest (``low_A > high_B``).

A **dominates** B when A has at least B's rate of correct test images *and* is faster beyond
the spread. Overlapping throughput intervals resolve nothing, so neither of two such cells
dominates the other, whatever their accuracies: every dominance, and so every cell left off
the front, rests on a throughput difference larger than its spread (and on whole images, not
float rounding). The front is every cell that no other cell dominates: the cells no other
cell is shown to beat.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd


def correct_counts(final: pd.DataFrame, test_images: int) -> pd.DataFrame:
    """Per completed family × budget of ``final``: ``correct`` (test images right, summed over
    seeds, each seed's count rounded to whole images) and ``images`` (seeds × test images).

    Raises:
        ValueError: ``test_images`` is not a positive int.
    """
    if isinstance(test_images, bool) or not isinstance(test_images, (int, np.integer)) or test_images < 1:
        raise ValueError(f"test_images={test_images!r} is not accepted: give the test split's size, an int >= 1.")
    done = final[final["status"] == "completed"]
    counts = (done["test_accuracy"].astype(float) * int(test_images)).round().astype(int)
    table = (done.assign(correct=counts, images=int(test_images))
             .groupby(["family", "budget"], sort=False, as_index=False)[["correct", "images"]].sum())
    return table.astype({"correct": int, "images": int})


def dominates(a: dict, b: dict) -> bool:
    """Whether cell ``a`` dominates cell ``b`` (dicts with correct, images, low, high); see
    the module doc."""
    as_accurate = int(a["correct"]) * int(b["images"]) >= int(b["correct"]) * int(a["images"])
    return as_accurate and a["low"] > b["high"]


def pareto_front(correct: Sequence[int], images: Sequence[int], low: Sequence[float],
                 high: Sequence[float]) -> np.ndarray:
    """Boolean mask of the cells no other cell dominates (see the module doc).

    Args:
        correct, images: whole correct test images and test images, per cell.
        low, high: the slowest and fastest throughput round, per cell (higher is better).
    """
    cells = [{"correct": c, "images": n, "low": float(lo), "high": float(hi)}
             for c, n, lo, hi in zip(correct, images, low, high)]
    return np.array([not any(dominates(other, cell) for j, other in enumerate(cells) if j != i)
                     for i, cell in enumerate(cells)], dtype=bool)
