"""Every final and baseline row of a run carries the trainable parameter count of the model
it describes: the saved best model of its cell (final rows, and baseline rows of the same
configuration), or the model its configuration and widths build (other baseline rows)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Tuple

import pandas as pd

SHARED = ("learning_rate", "kernel_size", "dropout")


def rows_against_models(run_dir: Path) -> Tuple[List[str], int]:
    """(disagreements, rows checked) of ``run_dir``: one line per row whose ``params`` differs
    from its model's trainable parameters."""
    import keras

    import layers  # noqa: F401  (registers the wsbench layers for loading)
    from bench.run.backbone import build_backbone, trainable_parameters
    from bench.run.search_space import family_keywords

    run_dir = Path(run_dir)
    meta = json.loads((run_dir / "run.json").read_text())
    config, shape, classes = meta["config"], meta["dataset"]["input_shape"], int(meta["dataset"]["num_classes"])
    problems, checked = [], 0
    saved: Dict[Tuple[str, int, str], int] = {}
    final = pd.read_csv(run_dir / "final.csv", dtype={"seed": str, "trial": str})
    for (family, budget), rows in final[final["status"] == "completed"].groupby(["family", "budget"]):
        model = keras.saving.load_model(run_dir / "models" / f"{family}__{budget}.keras", compile=False)
        count = trainable_parameters(model)
        saved[(family, int(budget), rows["hp"].iloc[0])] = count
        for row in rows.itertuples(index=False):
            checked += 1
            if int(row.params) != count:
                problems.append(f"final {family} @ {budget} seed {row.seed}: params {int(row.params):,}, the saved "
                                f"model has {count:,}")
    path = run_dir / "baseline.csv"
    baseline = pd.read_csv(path, dtype={"seed": str, "trial": str}) if path.exists() else pd.DataFrame()
    if len(baseline):
        for (family, budget, hp, widths), rows in baseline[baseline["status"] == "completed"].groupby(
                ["family", "budget", "hp", "widths"]):
            count = saved.get((family, int(budget), hp))
            if count is None:  # the plain recipe, not what the search chose: build what the row describes
                values = json.loads(hp)
                model = build_backbone(family, shape, classes, tuple(int(w) for w in str(widths).split("-")),
                                       depth=config.get("depth", 2), kernel_size=values["kernel_size"],
                                       head=config.get("head", "gap"), padding=config.get("padding") or "same",
                                       family_hp=family_keywords(family, {k: v for k, v in values.items()
                                                                          if k not in SHARED}))
                count = trainable_parameters(model)
            for row in rows.itertuples(index=False):
                checked += 1
                if int(row.params) != count:
                    problems.append(f"baseline {family} @ {budget} seed {row.seed}: params {int(row.params):,}, its "
                                    f"model has {count:,}")
    return problems, checked
