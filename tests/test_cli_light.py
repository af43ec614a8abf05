"""The command line answers at once where it can: `wsbench --help`, every sub-command's
`--help` and the registry listings import no TensorFlow or Keras (checked in a fresh
process); listings are aligned and whole (TensorFlow's start-up lines coming out once is checked by
tests/test_cli_errors.py, in a process that imports it anyway)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.cli import listing

#: What a light path must not import (each pulls in TensorFlow or a second framework).
HEAVY = ("tensorflow", "keras", "keras_tuner", "jax")

PROBE = """
import json, sys
from bench.cli import build_parser, main
commands = [a for a in build_parser()._subparsers._group_actions[0].choices]
calls = [["--help"]] + [[c, "--help"] for c in commands] + [["families"], ["datasets"], ["tuners"], ["figures"]]
codes = {}
for argv in calls:
    try:
        codes[" ".join(argv)] = main(argv)
    except SystemExit as exc:
        codes[" ".join(argv)] = exc.code
print(json.dumps({"codes": codes, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_help_and_listings_import_no_tensorflow_or_keras():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("KERAS_BACKEND", None)
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    codes = result["codes"]
    assert {"bench --help", "baseline --help", "study --help", "speed --help", "train --help", "report --help",
            "compare --help", "throughput --help", "families", "figures"} <= set(codes)
    assert all(code in (0, None) for code in codes.values()), codes
    assert [m for m in HEAVY if m in result["modules"]] == []


def test_listing_aligns_columns_and_wraps_whole_descriptions():
    rows = [("conv", "built-in", "short."), ("fig3_throughput", "plugin wsbench-x 1.0",
                                              "Training and inference images/s and batch-1 latency by family and "
                                              "budget, with every word kept.")]
    lines = listing(rows, width=70).splitlines()
    column = len("fig3_throughput") + 2 + len("plugin wsbench-x 1.0") + 2
    assert lines[0].index("short.") == column and lines[1].index("Training") == column
    assert all(line.startswith(" " * column) for line in lines[2:]) and len(lines) > 2
    assert " ".join(line.strip() for line in lines[1:]).endswith(
        "Training and inference images/s and batch-1 latency by family and budget, with every word kept.")
    assert max(len(line) for line in lines) <= 70
    unwrapped = listing(rows, width=None).splitlines()  # into a pipe: one whole line per entry
    assert len(unwrapped) == 2 and unwrapped[1].endswith("with every word kept.")
    assert unwrapped[1].index("Training") == column


def test_figures_listing_keeps_each_figure_s_whole_summary(capsys):
    from bench.cli import main

    assert main(["figures"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Training and inference images/s and batch-1 latency by family and budget." in text
