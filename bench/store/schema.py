"""The results schema: each table of a run, its columns and the key that makes a row unique.

Rows are appended as they finish and a row whose key is already present is never written
again, which is what makes a rerun resume without duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

RUN_JSON = "run.json"
MODELS_DIR = "models"


@dataclass(frozen=True)
class Table:
    """One CSV table of a run: ``<name>.csv`` with ``columns``, unique on ``key``."""

    name: str
    columns: Tuple[str, ...]
    key: Tuple[str, ...]

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"


TRIALS = Table("trials", ("run_id", "dataset", "family", "budget", "trial_index", "trial_id", "status", "reason",
                          "hp", "width", "params", "val_accuracy", "val_loss", "epochs", "wall_s"),
               ("family", "budget", "trial_id"))
FINAL = Table("final", ("run_id", "dataset", "family", "budget", "seed", "status", "reason", "best_hp", "width",
                        "params", "test_accuracy", "test_loss", "epochs", "train_s"),
              ("family", "budget", "seed"))
THROUGHPUT = Table("throughput", ("run_id", "family", "budget", "params", "macs_per_image", "batch",
                                  "train_img_s", "train_img_s_min", "train_img_s_max",
                                  "infer_img_s", "infer_img_s_min", "infer_img_s_max",
                                  "latency_ms_b1", "latency_ms_b1_min", "latency_ms_b1_max",
                                  "peak_rss_mb", "repeats", "device"),
                   ("family", "budget"))
TABLES = {table.name: table for table in (TRIALS, FINAL, THROUGHPUT)}
