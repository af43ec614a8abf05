"""What a run prints: a line per finished trial or final seed, a bar with an ETA, and the
accuracy table at the end."""

from __future__ import annotations

import sys
import time
from typing import Any, Dict, Optional

import pandas as pd


class Progress:
    """One line per finished trial or seed, and a bar over every fit of the run with an ETA.

    A fit is one trained model: a trial, a final seed or a baseline seed. ``total`` is every fit
    the run is known to need (it grows when seeds are added where verdicts are open);
    ``done_before`` those already stored when this process started (a resume). The ETA uses
    the rate of the fits done in *this* process only: stored fits cost this process nothing.
    """

    def __init__(self, total: int = 0, done_before: int = 0, stream=None):
        # sys.stdout is looked up now, not when the module was imported (it may have been replaced since).
        self.total, self.before, self.done, self.start = total, done_before, 0, time.perf_counter()
        self.stream = stream if stream is not None else sys.stdout

    def plan(self, more: int) -> None:
        """The run needs ``more`` fits than planned so far."""
        self.total += more

    def trial(self, row: Dict[str, Any], max_trials: Optional[int] = None) -> None:
        if row.get("trial_id") == "cell":  # a whole cell no configuration can meet
            print(f"  [{row['family']} | budget {int(row['budget']):,}] infeasible: {row['reason']}", file=self.stream)
            return
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
        self.fitted()

    def fitted(self) -> None:
        """One more fit finished in this process."""
        self.done += 1
        self.bar()

    def bar(self) -> None:
        if not self.total:
            return
        finished = self.before + self.done
        frac = min(finished / self.total, 1.0)
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if self.done and elapsed > 0 else 0.0
        eta = f"{max(self.total - finished, 0) / rate:.0f} s" if rate else "?"
        filled = int(frac * 30)
        print(f"  [{'#' * filled}{'.' * (30 - filled)}] {finished}/{self.total} fits  "
              f"elapsed {elapsed:.0f} s  ETA {eta}", file=self.stream, flush=True)

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
        if row.get("trial") != "recipe (final seed)":  # a copied row trained nothing
            self.fitted()


def start_progress(run, config, cells: int, stages) -> Progress:
    """A progress bar over the fits a run's ``cells`` (those that can train) need so far,
    counting those already stored."""
    from bench.stats.sequential import START

    first = START if config.seeds == "auto" else config.seeds
    total = cells * ((config.max_trials if "search" in stages else 0) + (first if "final" in stages else 0)
                     + (config.baseline_seeds if "baseline" in stages else 0))
    stored = sum(int((run.read(t)["status"] == "completed").sum()) if t != "trials" else
                 int((run.read(t)["trial_id"] != "cell").sum()) for t, stage in
                 (("trials", "search"), ("final", "final"), ("baseline", "baseline")) if stage in stages)
    return Progress(total, done_before=min(stored, total))


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
