"""The ``wsbench speed --fits`` table: fits per minute per backend, their ratio and the fits' quality."""

from __future__ import annotations

import math
import statistics
from typing import Dict, List, Tuple

#: Short names in the table's headings.
SHORT = {"tensorflow": "TF", "jax": "JAX"}

Cell = Tuple[str, int]  # (family, budget)


def _short(backend: str) -> str:
    return SHORT.get(backend, backend)


def _cells(df) -> List[Cell]:
    """Each row's (family, budget)."""
    return list(zip(df["family"], df["budget"].astype(int)))


def _in(df, cells: List[Cell]):
    """A boolean array: is each row's (family, budget) one of ``cells``?"""
    import numpy as np

    return np.array([c in cells for c in _cells(df)], dtype=bool)


def _per_repeat(done, backend: str, cells: List[Cell], column: str) -> Dict[int, float]:
    """repeat → the summed ``column`` seconds of ``cells`` on ``backend`` (repeats missing one are left out)."""
    mine = done[(done["backend"] == backend).to_numpy() & _in(done, cells)]
    sums = {}
    for r, group in mine.groupby("repeat"):
        if len(set(_cells(group))) == len(cells):
            sums[int(r)] = float(group[column].sum())
    return sums


def _ratio(done, cells: List[Cell], column: str) -> float:
    """Median over repeats of (TF seconds / JAX seconds) for ``cells`` together: JAX's fits per
    minute over TF's in the same repeat (NaN without both backends)."""
    tf, jx = _per_repeat(done, "tensorflow", cells, column), _per_repeat(done, "jax", cells, column)
    ratios = [tf[r] / jx[r] for r in sorted(set(tf) & set(jx)) if jx[r] > 0 and math.isfinite(tf[r] / jx[r])]
    return statistics.median(ratios) if ratios else math.nan


def _line(done, all_rows, cells: List[Cell], family: str, budget, backends: List[str]) -> Dict[str, object]:
    line: Dict[str, object] = {"family": family, "budget": budget}
    for b in backends:
        fits = _per_repeat(done, b, cells, "fit_s")
        steady = _per_repeat(done, b, cells, "steady_fit_s")
        # Per fit: a line over several cells divides their summed time by how many there are.
        fit_s = statistics.median(fits.values()) / len(cells) if fits else math.nan
        steady_s = statistics.median(steady.values()) / len(cells) if steady else math.nan
        mine = all_rows[(all_rows["backend"] == b).to_numpy() & _in(all_rows, cells)]
        ok = mine[mine["status"] == "completed"]
        line[f"{b}:s/fit"] = fit_s
        line[f"{b}:fits/min"] = 60 / fit_s if fit_s > 0 else math.nan
        line[f"{b}:steady fits/min"] = 60 / steady_s if steady_s > 0 else math.nan
        line[f"{b}:val_acc"] = float(ok["val_accuracy"].median()) if len(ok) else math.nan
        line[f"{b}:converged"] = f"{int(ok['converged'].astype(bool).sum())}/{len(mine)}"
    line["JAX/TF"] = _ratio(done, cells, "fit_s")
    line["steady JAX/TF"] = _ratio(done, cells, "steady_fit_s")
    return line


def summarize(df, backends: List[str]):
    """One line per (family, budget) and one for all of them together (per fit).

    Args:
        df: the fit rows of one invocation (``bench.speed.fits.COLUMNS``).
        backends: the backends timed, in column order.

    Returns:
        A DataFrame with ``family``, ``budget`` and, per backend ``b``, ``b:s/fit``,
        ``b:fits/min``, ``b:steady fits/min``, ``b:val_acc``, ``b:converged``; then ``JAX/TF``
        and ``steady JAX/TF``.
    """
    import pandas as pd

    done = df[df["status"] == "completed"].copy()
    cells = list(dict.fromkeys(_cells(df)))
    # The "all" line only sums cells every backend completed, or it would compare different work.
    timed = [c for c in cells if set(done.loc[_in(done, [c]), "backend"]) >= set(backends)]
    lines = [_line(done, df, [c], c[0], c[1], backends) for c in cells]
    if len(timed) > 1:
        lines.append(_line(done, df, timed, f"all {len(timed)} (per fit)", "", backends))
    return pd.DataFrame(lines)


def format_summary(summary) -> str:
    """The printed table and how to read it."""
    import pandas as pd

    def num(v, fmt):
        return "" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)

    backends = [c.split(":")[0] for c in summary.columns if c.endswith(":s/fit")]
    shown = {"family": summary["family"], "budget": summary["budget"]}
    for b in backends:
        shown[f"{_short(b)} s/fit"] = [num(v, ".2f") for v in summary[f"{b}:s/fit"]]
        shown[f"{_short(b)} fits/min"] = [num(v, ".1f") for v in summary[f"{b}:fits/min"]]
    shown["JAX/TF"] = [num(v, ".2f") for v in summary["JAX/TF"]]
    for b in backends:
        shown[f"{_short(b)} steady/min"] = [num(v, ".1f") for v in summary[f"{b}:steady fits/min"]]
    shown["steady JAX/TF"] = [num(v, ".2f") for v in summary["steady JAX/TF"]]
    for b in backends:
        shown[f"{_short(b)} val_acc"] = [num(v, ".3f") for v in summary[f"{b}:val_acc"]]
        shown[f"{_short(b)} converged"] = summary[f"{b}:converged"]
    text = pd.DataFrame(shown).to_string(index=False)
    return text + ("\n\ns/fit = median over repeats of one fit's wall time (build + train by the protocol, tracing "
                   "and compilation included); fits/min = 60 / s/fit; JAX/TF = median over repeats of JAX's fits "
                   "per minute over TF's in the same repeat (>1: JAX is faster); steady = the same fit without its "
                   "first-epoch tracing and compilation (its later epochs' mean time x the number of epochs); "
                   "val_acc = median best validation accuracy; converged = fits that converged / fits.")


def summarize_paths(df, backends: List[str]):
    """Per backend and (family, budget): one seed's share of a fit by each path (one program
    per seed, one step per call; or the run's protocol: the seeds as one program) and the
    speed-up of the second, the median over repeats of (summed seconds alone / together)."""
    import pandas as pd

    done = df[df["status"] == "completed"]
    lines = []
    for backend in backends:
        for (family, budget), cell in done[done["backend"] == backend].groupby(["family", "budget"], sort=False):
            per = {path: cell[cell["path"] == path].groupby("repeat")["fit_s"].sum() for path in ("alone", "together")}
            repeats = sorted(set(per["alone"].index) & set(per["together"].index))
            ratios = [per["alone"][r] / per["together"][r] for r in repeats if per["together"][r] > 0]
            seeds = cell[cell["path"] == "together"].groupby("repeat").size()
            lines.append({"backend": backend, "family": family, "budget": budget,
                          "seeds": int(seeds.median()) if len(seeds) else 0,
                          "alone s/seed": statistics.median(per["alone"][repeats] / seeds[repeats]) if repeats
                          else math.nan,
                          "together s/seed": statistics.median(per["together"][repeats] / seeds[repeats]) if repeats
                          else math.nan,
                          "speed-up": statistics.median(ratios) if ratios else math.nan})
    return pd.DataFrame(lines)


def format_paths(paths) -> str:
    """The printed table of the two paths and how to read it."""
    if paths.empty:
        return "(no fit of both paths completed)"
    shown = paths.assign(**{c: paths[c].map(lambda v: "" if math.isnan(v) else f"{v:.2f}")
                            for c in ("alone s/seed", "together s/seed", "speed-up")})
    shown["backend"] = shown["backend"].map(_short)
    return shown.to_string(index=False) + (
        "\n\nalone = every seed its own program, one step per call into the compiled step (every fit before seeds "
        "trained together); together = the run's protocol: the seeds as one program, several steps per call; "
        "s/seed = a seed's share of the time (build + train, tracing included); speed-up = alone / together, "
        "median over repeats (>1: the run's path is faster). The numbers of a seed are the same either way.")
