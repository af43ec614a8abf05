"""Average ranks of the families over a study's tasks, the Friedman test and a post-hoc test,
as Demšar (JMLR 2006, "Statistical Comparisons of Classifiers over Multiple Data Sets")
prescribes for comparing several methods over several data sets.

Each task (dataset × budget) ranks the families by mean test accuracy (1 = best, ties share
the average rank). The Friedman test asks whether the average ranks differ more than chance
would make them (:func:`scipy.stats.friedmanchisquare`, with Iman and Davenport's F form,
which Demšar recommends as less conservative); the Nemenyi test compares every pair
(:func:`scikit_posthocs.posthoc_nemenyi_friedman`), and its critical difference (CD) is the
gap in average rank two families need to differ at ``alpha``: q_alpha · sqrt(k(k+1) / 6N),
q_alpha the studentized range quantile for k families over sqrt(2). Families without a model
at some task are left out (the test needs every family at every task), and named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np
import pandas as pd

from bench.stats.verdicts import ALPHA


@dataclass
class Ranks:
    """The rank analysis of a study.

    Attributes:
        accuracy: tasks × families, mean test accuracy (the task as 'dataset @ budget').
        ranks: the same, each row ranked (1 = best).
        average: family → average rank, best first.
        chi2, p: Friedman's statistic and p-value.
        f, p_f: Iman and Davenport's F and its p-value.
        nemenyi: families × families, the Nemenyi test's p-values.
        cd: the critical difference at ``alpha``.
        alpha: the level of the tests.
        left_out: family → why it is not ranked.
    """

    accuracy: pd.DataFrame
    ranks: pd.DataFrame
    average: pd.Series
    chi2: float
    p: float
    f: float
    p_f: float
    nemenyi: pd.DataFrame
    cd: float
    alpha: float = ALPHA
    left_out: Dict[str, str] = field(default_factory=dict)

    @property
    def tasks(self) -> int:
        return len(self.accuracy)


def rank_families(accuracy: pd.DataFrame, alpha: float = ALPHA) -> Optional["Ranks"]:
    """Ranks the families (columns) over the tasks (rows) of mean test accuracies; NaN marks
    a cell without a model. None when fewer than 3 families have a model at every task or
    there are fewer than 2 tasks: nothing to test."""
    import scikit_posthocs as sp
    from scipy.stats import f as f_dist, friedmanchisquare, studentized_range

    missing = accuracy.columns[accuracy.isna().any()]
    left_out = {family: "no model at " + ", ".join(accuracy.index[accuracy[family].isna()]) for family in missing}
    complete = accuracy.drop(columns=missing)
    n, k = complete.shape
    if k < 3 or n < 2:
        return None
    ranks = complete.rank(axis=1, ascending=False, method="average")
    chi2, p = friedmanchisquare(*[complete[c].to_numpy(float) for c in complete.columns])
    chi2, p = float(chi2), float(p)
    # Iman-Davenport: F = (N-1)·chi2 / (N(k-1) - chi2) with (k-1, (k-1)(N-1)) degrees of freedom.
    denominator = n * (k - 1) - chi2
    f = (n - 1) * chi2 / denominator if denominator > 0 else math.inf
    p_f = float(f_dist.sf(f, k - 1, (k - 1) * (n - 1))) if math.isfinite(f) else 0.0
    nemenyi = sp.posthoc_nemenyi_friedman(complete.to_numpy(float))
    nemenyi.index = nemenyi.columns = list(complete.columns)
    q = float(studentized_range.ppf(1 - alpha, k, np.inf)) / math.sqrt(2)
    cd = q * math.sqrt(k * (k + 1) / (6 * n))
    return Ranks(complete, ranks, ranks.mean().sort_values(), chi2, p, float(f), p_f, nemenyi, cd, alpha, left_out)


def accuracy_table(runs: Sequence, families: Sequence[str]) -> pd.DataFrame:
    """Tasks ('dataset @ budget') × ``families``: each completed cell's mean test accuracy
    (NaN where the family has no model) of stored runs (:class:`bench.compare.runs.StoredRun`)."""
    rows: List[dict] = []
    index = []
    for run in runs:
        for budget in run.budgets:
            cells = run.table[(run.table["budget"] == budget) & (run.table["status"] == "completed")]
            means = dict(zip(cells["family"], cells["mean"].astype(float)))
            index.append(f"{run.dataset} @ {budget:,}")
            rows.append({family: means.get(family, math.nan) for family in families})
    return pd.DataFrame(rows, index=index, columns=list(families))
