"""Bounded memory: the resident set of a long search must not grow from trial to trial.

One real `wsbench bench` search of 10 trials runs as a subprocess; its RSS is sampled with
psutil the moment trials.csv reaches 3 rows and the moment it reaches 10 rows. A leak of a
model, a graph or a traced function per trial would show as steady growth between the two.
Without a leak the resident set is flat from the second trial on (measured: 903 MiB after
trial 1, 913 after trial 3, 916 after trial 10, 910 after trial 15; earlier 903 MiB after
trial 5 and 906 after trial 30), so 5 % headroom is ample and 10 trials are enough.
The figures are printed (``pytest -s``) and written to ``rss.json`` in the test's tmp dir.

Before bench.compat.release_tf_graphs, RSS grew by ~12 MiB per trial (882 MiB after trial 5, 1297 MiB
after trial 40): every model's traced train graph stayed registered in TensorFlow.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import psutil
import pytest
import tensorflow as tf

from bench.compat import CUSTOM_GRADIENT_PREFIX, gradient_registry, release_tf_graphs as release_graphs

EARLY, LATE = 3, 10  # the old leak (~12 MiB a trial) would give ~109 %, well over the 105 % allowed
ALLOWED = 1.05
ARGS = ["bench", "--profile", "quick", "--families", "conv", "--budgets", "3000", "--max-trials", str(LATE),
        "--steps", "10", "--eval-every", "5", "--seeds", "1", "--no-throughput", "--run-name", "memory"]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", WSBENCH_DISABLE_PLUGINS="1")
TIMEOUT_S = 900  # generous: 10 trials on a busy 2-core machine


def rows(path: Path) -> int:
    return len(pd.read_csv(path)) if path.exists() else 0


def live_train_graphs() -> int:
    """Traced Keras train-step graphs still alive in this process."""
    return sum(1 for o in gc.get_objects()
               if isinstance(o, tf.Graph) and "one_step_on_data" in str(getattr(o, "name", "")))


def test_release_graphs_frees_the_train_graph_of_a_discarded_model():
    """The unit behind the bounded RSS: after release_graphs(), no traced train graph of a
    discarded model survives and no custom-gradient registration is left."""
    release_graphs()
    before = live_train_graphs()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.train_on_batch(np.zeros((8, 4), "float32"), np.zeros((8, 2), "float32"))
    del model
    keras.backend.clear_session()
    release_graphs()
    assert live_train_graphs() == before
    assert not [n for n in gradient_registry() if str(n).startswith(CUSTOM_GRADIENT_PREFIX)]


@pytest.mark.slow(seconds=40)  # 10 real trials in one process
def test_rss_after_trial_10_is_at_most_105_percent_of_rss_after_trial_3(tmp_path):
    trials = tmp_path / "memory" / "trials.csv"
    log = open(tmp_path / "out.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "bench.cli", *ARGS, "--results-dir", str(tmp_path)], env=ENV,
                            stdout=log, stderr=subprocess.STDOUT)
    process = psutil.Process(proc.pid)
    rss = {}  # trials.csv row count -> RSS in MiB, sampled as soon as the count is first seen
    deadline = time.time() + TIMEOUT_S
    try:
        while len(rss) == 0 or max(rss) < LATE:
            n = rows(trials)
            if n and n not in rss:
                rss[n] = process.memory_info().rss / 2**20
            if proc.poll() is not None:
                break
            assert time.time() < deadline, f"the search did not reach {LATE} trials in {TIMEOUT_S} s: {rss}"
            time.sleep(0.05)
        code = proc.wait(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    out = (tmp_path / "out.log").read_text()
    assert code == 0, out[-3000:]
    assert EARLY in rss and LATE in rss, f"trial counts seen while polling: {sorted(rss)}"
    early, late = rss[EARLY], rss[LATE]
    (tmp_path / "rss.json").write_text(json.dumps({"early_mib": early, "late_mib": late, "per_trial_mib": rss}))
    print(f"\nRSS after trial {EARLY}: {early:.1f} MiB; after trial {LATE}: {late:.1f} MiB "
          f"(ratio {late / early:.3f}); per trial: " + ", ".join(f"{k}:{v:.0f}" for k, v in sorted(rss.items())))
    assert len(pd.read_csv(trials)) == LATE
    assert late <= ALLOWED * early, f"RSS grew from {early:.1f} MiB (trial {EARLY}) to {late:.1f} MiB (trial {LATE})"
