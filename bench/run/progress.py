"""What a run prints while it goes: a line per finished trial or final seed, and a bar with an ETA."""

from __future__ import annotations

import sys
import time
from typing import Any, Dict, Optional


class Progress:
    """One line per finished trial and an overall bar with an ETA."""

    def __init__(self, total: Optional[int], stream=None):
        # sys.stdout is looked up now, not when the module was imported (it may have been replaced since).
        self.total, self.done, self.start = total, 0, time.perf_counter()
        self.stream = stream if stream is not None else sys.stdout

    def trial(self, row: Dict[str, Any], max_trials: Optional[int]) -> None:
        self.done += 1
        acc = f"val_acc {row['val_accuracy']:.3f}" if row["status"] == "completed" else row["status"]
        params = f"{int(row['params']):,} params" if row.get("params") is not None else row.get("reason", "")
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
        print(f"  [{row['family']} | budget {int(row['budget']):,}] seed {row['seed']}: "
              f"test_acc {row['test_accuracy']:.3f}  ({row['params']:,} params, {row['train_s']:.1f} s)",
              file=self.stream, flush=True)
