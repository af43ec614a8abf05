"""Whether a run's answer can be trusted: the checks the report shows beside the accuracies.

- **Convergence**: seeds and trials whose validation accuracy was still improving in the
  last fifth of their steps.
- **Plain-recipe floor**: a tuned cell more than :data:`DEFECT` below its family's untuned
  recipe, paired over the seeds both trained, is a defect of the protocol (tuning made it
  worse), not a property of the family.
- **Search-space edges**: a cell whose best trial sits in the outer tenth of a shared range
  hints that the range, not the family, limited it.
- **Could tuning rank?** How far the best trial led the plain recipe (trial 0) on validation,
  and whether that lead is beyond what the validation split resolves (one standard error of
  the recipe's validation accuracy, at least one image): when it is not, tuning picked a
  configuration on noise, and tuned and untuned are the same model in all but name.
"""

from __future__ import annotations

import json
import math
from typing import Dict, List, Optional, Sequence

import pandas as pd

from bench.report.tables import ordered
from bench.stats.outcomes import paired_evidence
from bench.stats.verdicts import paired_tests

#: A tuned cell this far (in accuracy) below its plain-recipe baseline is a protocol defect.
DEFECT = 0.02


def baseline_comparison(tuned: pd.DataFrame, baseline: pd.DataFrame, families: Sequence[str]) -> pd.DataFrame:
    """Per cell: tuned and baseline mean test accuracy over the seeds both trained, their paired
    difference with its 95 % interval (over seeds and images when kept) and exact/t p-value,
    and whether the paired difference falls more than :data:`DEFECT` below 0."""
    base = {(r.family, r.budget): r for r in baseline.itertuples(index=False)}
    rows = []
    for r in tuned.itertuples(index=False):
        b = base.get((r.family, r.budget))
        if b is None:
            continue
        ev = paired_evidence(r.outcomes, b.outcomes) if r.outcomes is not None and b.outcomes is not None else None
        row = {"family": r.family, "budget": r.budget, "tuned": r.mean, "baseline": b.mean,
               "baseline_status": b.status, "n": 0, "diff": math.nan, "ci_low": math.nan, "ci_high": math.nan,
               "p_value": math.nan, "defect": False, "baseline_not_converged": b.not_converged}
        if ev is not None:
            tests = paired_tests(ev, r.outcomes.images, DEFECT)
            common = sorted(set(r.outcomes.seeds) & set(b.outcomes.seeds))
            row.update(n=ev.n, diff=float(ev.mean), ci_low=float(tests["ci_low"]), ci_high=float(tests["ci_high"]),
                       p_value=float(tests["p"]), defect=bool(ev.mean < -DEFECT),
                       tuned=_mean_of(r.outcomes, common), baseline=_mean_of(b.outcomes, common))
        rows.append(row)
    return ordered(pd.DataFrame(rows), families)


def _mean_of(outcomes, seeds) -> float:
    """Mean accuracy of ``outcomes`` over ``seeds`` only."""
    keep = [i for i, s in enumerate(outcomes.seeds) if s in set(seeds)]
    return float(outcomes.correct[keep].mean() / outcomes.images)


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


def tuning_lead(trials: pd.DataFrame, tuned: pd.DataFrame, families: Sequence[str], val_images: int) -> pd.DataFrame:
    """Per cell: completed trials, family redraws, trials not converged, the plain recipe's and
    the best trial's validation accuracy, the best trial's lead over the recipe in validation
    images, the validation split's resolution there, whether tuning could rank (the lead is
    beyond it), and the seed spread of test accuracy."""
    seeds = {(r.family, r.budget): r for r in tuned.itertuples(index=False)}
    rows = []
    for (family, budget), group in trials.groupby(["family", "budget"], sort=False):
        done = group[group["status"] == "completed"]
        best = done.sort_values(["val_accuracy", "val_loss"], ascending=[False, True]).head(1)
        recipe = done[done["recipe"].map(_truthy)] if "recipe" in done else done.iloc[:0]
        recipe_acc = float(recipe["val_accuracy"].iloc[0]) if len(recipe) else math.nan
        best_acc = float(best["val_accuracy"].iloc[0]) if len(best) else math.nan
        resolution = max(1.0 / val_images, math.sqrt(recipe_acc * (1 - recipe_acc) / val_images)) \
            if math.isfinite(recipe_acc) else math.nan
        lead = best_acc - recipe_acc
        final = seeds.get((family, budget))
        rows.append({"family": family, "budget": budget, "completed": len(done),
                     "cell_infeasible": bool((group["trial_id"] == "cell").any()),
                     "redraws": int(pd.to_numeric(done["redraws"], errors="coerce").fillna(0).sum()),
                     "trials_not_converged": int((~done["converged"].astype(bool)).sum()),
                     "recipe_best": bool(len(best) and _truthy(best["recipe"].iloc[0])),
                     "recipe_val": recipe_acc, "best_val": best_acc, "lead_images": round(lead * val_images)
                     if math.isfinite(lead) else math.nan, "resolution_images": resolution * val_images,
                     "could_rank": bool(math.isfinite(lead) and lead > resolution + 1e-9),
                     "seed_std": final.std if final is not None else math.nan})
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
