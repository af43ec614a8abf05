"""Aggregate performance over a study's tasks (dataset × budget), as Agarwal et al. (NeurIPS
2021, "Deep Reinforcement Learning at the Edge of the Statistical Precipice", the ``rliable``
library) recommend, against the reference family:

- **probability of improvement** P(family > conv): for each task the chance that a run (seed)
  of the family beats a run of conv, counting ties as half (the Mann-Whitney U statistic over
  N × N pairs of seeds), averaged over the tasks;
- **interquartile mean (IQM) of Δ**: the mean of the middle 50 % of every paired difference
  (family seed s − conv seed s) of every task (:func:`scipy.stats.trim_mean`, 25 % cut from
  each end): robust to a few outlying seeds, less noisy than a median;
- **stratified bootstrap** 95 % intervals (percentile method): seeds are resampled with
  replacement within each task, tasks kept as they are. Paired differences are resampled as
  pairs; for P(improvement) the family's and conv's seeds are resampled independently, as
  rliable does.

Every task weighs the same: each cell contributes its first N seeds, N the fewest any cell of
the aggregate has (rliable's runs × tasks matrix; seeds a run added where verdicts were open
are left out here). Implemented from the paper's definitions with numpy and scipy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np
import pandas as pd
from scipy.stats import trim_mean

from bench.stats import REFERENCE

Task = Tuple[str, int]
#: Bootstrap replicates and the seed of their draws (the aggregate is the same on every rebuild).
REPLICATES, BOOTSTRAP_SEED = 2000, 0
CONFIDENCE = 0.95
COLUMNS = ["family", "tasks", "seeds_per_task", "p_improvement", "p_improvement_low", "p_improvement_high",
           "iqm_delta", "iqm_delta_low", "iqm_delta_high", "mean_delta"]


@dataclass
class Scores:
    """Per-seed test accuracies of every cell of an aggregate.

    Attributes:
        cells: (task, family) → seed → test accuracy.
    """

    cells: Dict[Tuple[Task, str], Dict[int, float]]

    @property
    def tasks(self) -> List[Task]:
        return list(dict.fromkeys(task for task, _ in self.cells))

    def seeds_per_task(self) -> int:
        """N: the fewest seeds any cell has."""
        return min((len(seeds) for seeds in self.cells.values()), default=0)

    def paired(self, family: str, n: int) -> Tuple[List[Task], np.ndarray, np.ndarray]:
        """(tasks, family's accuracies, conv's) over the tasks where both have ``n`` shared
        seeds: two n × tasks matrices, row i the i-th lowest shared seed."""
        tasks, xs, ys = [], [], []
        for task in self.tasks:
            mine, ref = self.cells.get((task, family)), self.cells.get((task, REFERENCE))
            if mine is None or ref is None:
                continue
            shared = sorted(set(mine) & set(ref))[:n]
            if len(shared) < n:
                continue
            tasks.append(task)
            xs.append([mine[s] for s in shared])
            ys.append([ref[s] for s in shared])
        shape = (n, len(tasks))
        return tasks, np.array(xs, dtype=float).T.reshape(shape), np.array(ys, dtype=float).T.reshape(shape)


def scores_of(runs: Sequence) -> Scores:
    """The per-seed test accuracies of the completed cells of stored runs
    (:class:`bench.compare.runs.StoredRun`), a task per run's dataset and budget."""
    cells = {}
    for run in runs:
        for r in run.data.summary.itertuples(index=False):
            if r.outcomes is not None:
                o = r.outcomes
                cells[((run.dataset, int(r.budget)), r.family)] = {int(s): float(c) / o.images
                                                                  for s, c in zip(o.seeds, o.correct)}
    return Scores(cells)


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y) averaged over tasks, ties counting half, for n × tasks matrices (or a stack
    of them, ... × n × tasks): one value per stack entry."""
    wins = (x[..., :, None, :] > y[..., None, :, :]) + 0.5 * (x[..., :, None, :] == y[..., None, :, :])
    return wins.mean(axis=(-3, -2)).mean(axis=-1)


def iqm(values: np.ndarray) -> np.ndarray:
    """The interquartile mean over the last two axes (seeds × tasks)."""
    flat = values.reshape(values.shape[:-2] + (-1,))
    return trim_mean(flat, 0.25, axis=-1)


def _resample(matrix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """REPLICATES stratified resamples of an n × tasks matrix: rows drawn with replacement
    within each column (task)."""
    n, tasks = matrix.shape
    rows = rng.integers(0, n, size=(REPLICATES, n, tasks))
    return np.take_along_axis(np.broadcast_to(matrix, (REPLICATES, n, tasks)), rows, axis=1)


def _interval(values: np.ndarray) -> Tuple[float, float]:
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def aggregate(scores: Scores, families: Sequence[str]) -> pd.DataFrame:
    """One row per family other than the reference (:data:`COLUMNS`): over the tasks where it
    and the reference both have a model, P(family > conv) and the IQM of Δ with their
    stratified-bootstrap intervals, and the plain mean of Δ."""
    n = scores.seeds_per_task()
    rows = []
    for family in families:
        if family == REFERENCE:
            continue
        tasks, x, y = scores.paired(family, n) if n else ([], None, None)
        if not tasks:
            rows.append({"family": family, "tasks": 0, "seeds_per_task": n})
            continue
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        delta = x - y
        p_boot = probability_of_improvement(_resample(x, rng), _resample(y, rng))
        iqm_boot = iqm(_resample(delta, rng))
        rows.append({"family": family, "tasks": len(tasks), "seeds_per_task": n,
                     "p_improvement": float(probability_of_improvement(x, y)),
                     **dict(zip(("p_improvement_low", "p_improvement_high"), _interval(p_boot))),
                     "iqm_delta": float(iqm(delta)),
                     **dict(zip(("iqm_delta_low", "iqm_delta_high"), _interval(iqm_boot))),
                     "mean_delta": float(delta.mean())})
    return pd.DataFrame(rows, columns=COLUMNS)
