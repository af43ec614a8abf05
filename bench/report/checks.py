"""Whether a run's answer can be trusted: the checks the report shows beside the accuracies.

- **Convergence**: seeds and trials whose validation accuracy was still improving in the
  last fifth of their steps.
- **Plain-recipe floor**: a tuned cell more than :data:`DEFECT` below its family's untuned
  recipe is a defect of the protocol (tuning made it worse), not a property of the family.
- **Search-space edges**: a cell whose best trial sits in the outer tenth of a shared range
  hints that the range, not the family, limited it.
- **Tuning noise**: the study-to-study spread of the best validation accuracy (bootstrap over
  the cell's trials) beside the seed-to-seed spread of test accuracy.
"""

from __future__ import annotations

import json
import math
from typing import Dict, List, Optional, Sequence

import pandas as pd

from bench.report.stats import bootstrap_best, paired
from bench.report.tables import ordered

#: A tuned cell this far (in accuracy) below its plain-recipe baseline is a protocol defect.
DEFECT = 0.02


def baseline_comparison(tuned: pd.DataFrame, baseline: pd.DataFrame, families: Sequence[str]) -> pd.DataFrame:
    """Per cell: tuned and baseline mean test accuracy, their paired difference over the
    seeds both trained, and whether the tuned cell falls more than :data:`DEFECT` below."""
    base = {(r.family, r.budget): r for r in baseline.itertuples(index=False)}
    rows = []
    for r in tuned.itertuples(index=False):
        b = base.get((r.family, r.budget))
        if b is None:
            continue
        both = r.status == "completed" and b.status == "completed"
        diff = paired(r.by_seed, b.by_seed) if both else {}
        mean_diff = r.mean - b.mean if both else math.nan
        rows.append({"family": r.family, "budget": r.budget, "tuned": r.mean, "baseline": b.mean,
                     "baseline_status": b.status, "diff": mean_diff, "paired_diff": diff.get("diff", math.nan),
                     "p_value": diff.get("p_value", math.nan), "defect": bool(both and mean_diff < -DEFECT),
                     "baseline_not_converged": b.not_converged})
    return ordered(pd.DataFrame(rows), families)


def search_ranges(meta: dict):
    """The shared hyperparameters as run.json recorded them (keras-tuner objects), or None."""
    space = (meta.get("search_space") or {}).get("shared")
    if not space:
        return None
    import keras_tuner as kt

    return {h.name: h for h in kt.HyperParameters.from_config(space).space}


def edge_flags(meta: dict, trials: pd.DataFrame, final: pd.DataFrame, families: Sequence[str]) -> pd.DataFrame:
    """Per cell: the best trial's shared values that sit in the outer tenth of their range
    (in sampling space: log for the learning rate)."""
    ranges, edge = search_ranges(meta), float((meta.get("search_space") or {}).get("edge", 0.1))
    if not ranges:
        return pd.DataFrame(columns=["family", "budget", "trial", "at_edge"])
    rows = []
    for (family, budget), group in final[final["status"] == "completed"].groupby(["family", "budget"], sort=False):
        trial = str(group["trial"].iloc[0])
        match = trials[(trials["family"] == family) & (trials["budget"] == budget) & (trials["trial_id"] == trial)]
        if match.empty:
            continue
        values = json.loads(match["hp"].iloc[0])
        flags = []
        for name, h in ranges.items():
            if name in values and hasattr(h, "min_value") and h.max_value > h.min_value:
                where = float(h.value_to_prob(values[name]))
                if where < edge or where > 1 - edge:
                    side = "low" if where < edge else "high"
                    flags.append(f"{name} {values[name]:.3g} ({side} edge of {h.min_value:g}–{h.max_value:g})")
        rows.append({"family": family, "budget": budget, "trial": trial, "at_edge": "; ".join(flags)})
    return ordered(pd.DataFrame(rows), families)


def tuning_noise(trials: pd.DataFrame, tuned: pd.DataFrame, families: Sequence[str]) -> pd.DataFrame:
    """Per cell: completed trials, family redraws, trials not converged, whether the recipe
    won, the bootstrap spread of the best validation accuracy, and the seed spread of test
    accuracy."""
    seeds = {(r.family, r.budget): r for r in tuned.itertuples(index=False)}
    rows = []
    for (family, budget), group in trials.groupby(["family", "budget"], sort=False):
        done = group[group["status"] == "completed"]
        spread = bootstrap_best(done["val_accuracy"].astype(float))
        final = seeds.get((family, budget))
        best = done.sort_values(["val_accuracy", "val_loss"], ascending=[False, True]).head(1)
        rows.append({"family": family, "budget": budget, "completed": len(done),
                     "cell_infeasible": bool((group["trial_id"] == "cell").any()),
                     "redraws": int(pd.to_numeric(done["redraws"], errors="coerce").fillna(0).sum()),
                     "trials_not_converged": int((~done["converged"].astype(bool)).sum()),
                     "recipe_best": bool(len(best) and _truthy(best["recipe"].iloc[0])),
                     "study_median": spread["median"], "study_low": spread["low"], "study_high": spread["high"],
                     "study_std": spread["std"], "seed_std": final.std if final is not None else math.nan})
    return ordered(pd.DataFrame(rows), families)


def _truthy(value) -> bool:
    return str(value).strip().lower() in ("true", "1", "1.0")


def defects(comparison: pd.DataFrame) -> List[str]:
    """'family @ budget' of every cell below its baseline by more than :data:`DEFECT`."""
    if comparison.empty:
        return []
    return [f"{r.family} @ {int(r.budget):,}" for r in comparison.itertuples(index=False) if r.defect]


def not_converged(tuned: pd.DataFrame, baseline: Optional[pd.DataFrame] = None) -> Dict[str, List[str]]:
    """{'final': cells with a seed not converged, 'baseline': the same for the baseline}."""
    def cells(table):
        if table is None or table.empty:
            return []
        return [f"{r.family} @ {int(r.budget):,} ({r.not_converged}/{r.n})" for r in table.itertuples(index=False)
                if r.status == "completed" and r.not_converged]
    return {"final": cells(tuned), "baseline": cells(baseline)}
