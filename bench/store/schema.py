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
    """One CSV table of a run: ``<name>.csv`` with ``columns``, unique on ``key``.

    ``added`` names the columns a later version of wsbench added: a table written before
    lacks them and reads back with them empty (NaN), so older runs still report and resume.
    """

    name: str
    columns: Tuple[str, ...]
    key: Tuple[str, ...]
    added: Tuple[str, ...] = ()

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"


#: What a trained model reached (trials, final seeds and baseline seeds all record it).
_TRAINED = ("val_accuracy", "val_loss", "best_step", "steps", "converged", "gain_last_fifth", "loss_drop_last_fifth",
            "diverged")

TRIALS = Table("trials", ("run_id", "dataset", "family", "budget", "trial_index", "trial_id", "status", "reason",
                          "recipe", "redraws", "hp", "widths", "params") + _TRAINED + ("wall_s",),
               ("family", "budget", "trial_id"), added=("loss_drop_last_fifth",))
#: ``test_correct``: the whole number of test images the model got right (the statistics work on
#: it; ``test_accuracy`` is that count over the test split's size).
FINAL = Table("final", ("run_id", "dataset", "family", "budget", "seed", "status", "reason", "trial", "hp", "widths",
                        "params", "test_accuracy", "test_correct", "test_loss") + _TRAINED + ("train_s",),
              ("family", "budget", "seed"), added=("test_correct", "loss_drop_last_fifth"))
BASELINE = Table("baseline", FINAL.columns, FINAL.key, FINAL.added)
#: Throughput of each tuned model: medians and the slowest / fastest of ``repeats`` rounds
#: (``timing`` 'interleaved': every model timed in each round; runs made before it timed the
#: models one after another and have no ``timing``), and ``step_mem_mb``, the allocator's peak
#: of one training step in a fresh process (runs made before it have a ``peak_rss_mb`` instead,
#: the measuring process's memory, which the report does not show).
THROUGHPUT = Table("throughput", ("run_id", "family", "budget", "params", "macs_per_image", "batch",
                                  "train_img_s", "train_img_s_min", "train_img_s_max",
                                  "infer_img_s", "infer_img_s_min", "infer_img_s_max",
                                  "latency_ms_b1", "latency_ms_b1_min", "latency_ms_b1_max",
                                  "step_mem_mb", "repeats", "timing", "device"),
                   ("family", "budget"), added=("step_mem_mb", "timing"))
#: Every validation of every model: the learning curves (stage 'trial', 'final' or 'baseline';
#: ``trial`` the trial id the model's configuration comes from; ``seed`` '' for a trial).
CURVES = Table("curves", ("run_id", "stage", "family", "budget", "trial", "seed", "step", "loss", "val_accuracy",
                          "val_loss"), ("stage", "family", "budget", "trial", "seed", "step"))
#: Which test images each final and baseline model got right: ``correct`` is the row of a
#: models × images boolean matrix, ``images`` bits packed big-endian (numpy.packbits) as hex,
#: in the order of the run's test split.
CORRECT = Table("correct", ("run_id", "stage", "family", "budget", "seed", "images", "correct"),
                ("stage", "family", "budget", "seed"))
TABLES = {table.name: table for table in (TRIALS, FINAL, BASELINE, THROUGHPUT, CURVES, CORRECT)}
