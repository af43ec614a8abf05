"""The speed goals ``wsbench speed`` checks, as the families declare them (``SpeedSpec.targets``)."""

from __future__ import annotations

import math
from typing import Dict, List

#: Every route's training step may use at most this many times its reference's memory.
MEMORY_LIMIT = 2.0


def _target_text(family, row: str, target, rows) -> tuple:
    """(description, ratio column) of one declared target."""
    from bench.speed.references import TF_KERAS

    if target.versus == "conv_K":
        what, column = f"{row} train <= {target.limit:g} x conv_K", "train_x_conv_k"
    elif target.versus == "reference" and family.speed.reference == TF_KERAS:
        # The table names the fastest tf_keras row as the row's reference once it is measured.
        fastest = rows.loc[row, "compare_to"] if row in rows.index else TF_KERAS
        what, column = f"{row} train <= {target.limit:g} x fastest tf_keras ({fastest})", "train_x_ref"
    elif target.versus == "reference":
        what, column = f"{row} train <= {target.limit:g} x its literal reference", "train_x_ref"
    else:
        raise ValueError(f"family {family.name!r} declares a speed target versus {target.versus!r}: "
                         f"use 'reference' or 'conv_K'.")
    return what + (" (aim)" if target.aim else ""), column


def targets(df) -> List[Dict[str, object]]:
    """Every declared target with its measured ratio and whether it is met (None: not measured),
    then the memory goal over every route of every family with routes."""
    import pandas as pd

    import layers

    rows = df.set_index("variant")
    checks: List[Dict[str, object]] = []
    routed = []
    for name in layers.list_families():
        family = layers.get_family(name)
        if family.speed is None:
            continue
        if family.routes:
            routed.append(name)
        for target in family.speed.targets:
            row = f"{name}[{target.route}]" if target.route else name
            what, column = _target_text(family, row, target, rows)
            if row not in rows.index or pd.isna(rows.loc[row, column]):
                checks.append(dict(target=what, ratio=float("nan"), limit=target.limit, met=None))
                continue
            ratio = float(rows.loc[row, column])
            checks.append(dict(target=what, ratio=ratio, limit=target.limit, met=ratio <= target.limit))
    ours = df[(df["kind"] == "ours") & df["family"].isin(routed)]
    mem = ours["mem_x_ref"].dropna()
    what = f"every route's step memory <= {MEMORY_LIMIT:g} x its reference"
    if len(mem):
        worst = ours.loc[mem.idxmax()]
        checks.append(dict(target=f"{what} (worst: {worst['variant']})", ratio=float(mem.max()), limit=MEMORY_LIMIT,
                           met=bool(mem.max() <= MEMORY_LIMIT)))
    else:
        checks.append(dict(target=what, ratio=float("nan"), limit=MEMORY_LIMIT, met=None))
    return checks


def format_targets(checks) -> str:
    """One line per target: met / NOT met / not measured, what, and the measured ratio."""
    lines = []
    for c in checks:
        state = "not measured" if c["met"] is None else ("met" if c["met"] else "NOT met")
        ratio = "n/a" if math.isnan(c["ratio"]) else f"{c['ratio']:.2f}"
        lines.append(f"  {state:12s} {c['target']}: {ratio}")
    return "\n".join(lines)
