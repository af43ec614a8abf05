"""What a run prints: a line per finished trial or final seed, a bar with an ETA, and the
accuracy table at the end."""

from __future__ import annotations

import sys
import time
from typing import Any, Dict, Optional

import pandas as pd


class Progress:
    """One line per finished trial and an overall bar with an ETA."""

    def __init__(self, total: Optional[int], stream=None):
        # sys.stdout is looked up now, not when the module was imported (it may have been replaced since).
        self.total, self.done, self.start = total, 0, time.perf_counter()
        self.stream = stream if stream is not None else sys.stdout

    def trial(self, row: Dict[str, Any], max_trials: Optional[int]) -> None:
        if row.get("trial_id") == "cell":  # a whole cell no configuration can meet
            print(f"  [{row['family']} | budget {int(row['budget']):,}] infeasible: {row['reason']}", file=self.stream)
            return
        self.done += 1
        acc = f"val_acc {row['val_accuracy']:.3f}" if row["status"] == "completed" else row["status"]
        if row["status"] == "completed" and not row.get("converged", True):
            acc += " (not converged)"
        params = f"{int(row['params']):,} params" if row.get("params") is not None else row.get("reason", "")
        if row.get("recipe"):
            params += " (plain recipe)"
        wall = row.get("wall_s")
        wall = f"{wall:.1f} s" if isinstance(wall, (int, float)) and wall == wall else "-"
        of = f"/{max_trials}" if max_trials else ""
        print(f"  [{row['family']} | budget {int(row['budget']):,}] trial {row['trial_index']}{of}  "
              f"{params}  {acc}  {wall}", file=self.stream)
        self.bar()

    def bar(self) -> None:
        if not self.total:
            return
        frac = min(self.done / self.total, 1.0)
        elapsed = time.perf_counter() - self.start
        eta = elapsed / frac - elapsed if frac > 0 else float("nan")
        filled = int(frac * 30)
        print(f"  [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} trials  "
              f"elapsed {elapsed:.0f} s  ETA {eta:.0f} s", file=self.stream, flush=True)

    def final(self, row: Dict[str, Any]) -> None:
        if row["status"] != "completed":
            print(f"  [{row['family']} | budget {int(row['budget']):,}] {row['status']}: {row['reason']}",
                  file=self.stream, flush=True)
            return
        what = "baseline seed" if str(row.get("trial", "")).startswith("recipe") else "seed"
        flag = "" if row.get("converged", True) else ", not converged"
        print(f"  [{row['family']} | budget {int(row['budget']):,}] {what} {row['seed']}: "
              f"test_acc {row['test_accuracy']:.3f}  ({int(row['params']):,} params, {row['train_s']:.1f} s{flag})",
              file=self.stream, flush=True)


def accuracy_table(final: pd.DataFrame) -> pd.DataFrame:
    """The table `wsbench bench` prints at its end: family × budget of 'mean ± std (n=…, … params)',
    '[k not converged]' when k seeds were still improving, or the cell's status."""
    cells = {}
    for (family, budget), group in final.groupby(["family", "budget"], sort=False):
        done = group[group["status"] == "completed"]
        if done.empty:
            cells[(family, budget)] = str(group["status"].iloc[0])
            continue
        acc = done["test_accuracy"].astype(float)
        std = acc.std(ddof=1) if len(acc) > 1 else float("nan")
        stuck = int((~done["converged"].astype(bool)).sum())
        cells[(family, budget)] = (f"{acc.mean():.3f} ± {std:.3f} (n={len(acc)}, {int(done['params'].iloc[0]):,} p)"
                                   + (f" [{stuck} not converged]" if stuck else ""))
    table = pd.Series(cells).unstack()
    table.index.name, table.columns.name = "family", "budget"
    return table
