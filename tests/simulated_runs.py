"""Runs with a known truth, for proving the verdicts by simulation.

A simulated run has ``budgets`` budgets; at each, a reference family (conv) and ``families``
other families, every one trained with ``seeds`` seeds and tested on a test split of
``images`` images. Each model misses each test image independently with an error rate of
its own per image: the reference ``p``, a family ``p + extra``. ``extra`` is then the true
difference (reference − family, in accuracy) on every image, so on the whole dataset.

``spread_to_p`` picks ``p`` so that the per-seed paired difference of two families has the
spread seen in a real run (0.42 percentage points in reference/default-digits at seed 0,
0.84 at seed 1): the variance of a count difference is 2·images·p(1 − p).

``systematic`` draws a new test split per comparison from a population in which a share of
the images is hard for the family only and as large a share hard for conv only: the true
difference over the population is 0, yet any one split holds more of one kind than of the
other, by chance: what an interval about these images alone mistakes for a difference.
"""

from __future__ import annotations

import numpy as np

from bench.stats.sequential import advance, looks
from bench.stats.twoway import from_matrix
from bench.stats.verdicts import ALPHA, decide, paired_tests

IMAGES = 360  # digits' test split


def spread_to_p(spread_points: float, images: int = IMAGES) -> float:
    """The per-image error rate giving a per-seed paired spread of ``spread_points`` points."""
    return (spread_points / 100) ** 2 * images / 2


def differences(rng, runs: int, seeds: int, p: float, extra: float = 0.0, families: int = 5, budgets: int = 3,
                images: int = IMAGES) -> np.ndarray:
    """(runs, budgets × families, seeds, images) per-image differences family − reference,
    the reference shared by the families of its budget."""
    reference = rng.random((runs, budgets, 1, seeds, images), dtype=np.float32) >= p
    family = rng.random((runs, budgets, families, seeds, images), dtype=np.float32) >= p + extra
    return (family.astype(np.int8) - reference.astype(np.int8)).reshape(runs, budgets * families, seeds, images)


def systematic(rng, runs: int, seeds: int, hard: float = 0.02, comparisons: int = 15,
               images: int = IMAGES) -> np.ndarray:
    """Like :func:`differences` with a true difference of 0 over the population of images, but
    images hard for one side only (``hard`` of the population each way)."""
    kind = rng.random((runs, comparisons, 1, images))
    family_err = np.where(kind < hard, 0.9, np.where(kind < 2 * hard, 0.05, 0.004))
    reference_err = np.where(kind < hard, 0.05, np.where(kind < 2 * hard, 0.9, 0.004))
    family = rng.random((runs, comparisons, seeds, images)) >= family_err
    reference = rng.random((runs, comparisons, seeds, images)) >= reference_err
    return family.astype(np.int8) - reference.astype(np.int8)


def fixed_verdicts(d: np.ndarray, margin: float, evidence=from_matrix) -> np.ndarray:
    """The verdicts of runs with every seed of ``d`` (no adding of seeds)."""
    res = paired_tests(evidence(d), d.shape[-1], margin)
    return decide(res["diff"], res["p"], res["p_equiv"])["verdict"]


def adaptive_verdicts(d: np.ndarray, margin: float, cap: int):
    """(verdicts, seeds used) of runs adding seeds as `--seeds auto` does: looks at 3, 6, ...
    the cap (:func:`bench.stats.sequential.looks`), each open comparison continuing by
    :func:`bench.stats.sequential.advance`; verdicts at the cap, p = 1 for the stopped."""
    level = ALPHA / d.shape[1]
    steps = looks(cap)
    used, open_ = np.full(d.shape[:2], steps[0]), np.ones(d.shape[:2], dtype=bool)
    for n in steps[:-1]:
        nxt, _ = advance(from_matrix(d[..., :n, :]), n, cap, margin, level)
        open_ &= nxt > n
        used = np.where(open_, nxt, used)
    res = paired_tests(from_matrix(d[..., :cap, :]), d.shape[-1], margin)
    reached = used >= cap
    p, p_equiv = np.where(reached, res["p"], 1.0), np.where(reached, res["p_equiv"], 1.0)
    return decide(res["diff"], p, p_equiv)["verdict"], used


def in_chunks(make, runs: int, chunk: int = 250):
    """Yields ``make(chunk)`` until ``runs`` runs have been made (bounded memory)."""
    for start in range(0, runs, chunk):
        yield make(min(chunk, runs - start))
