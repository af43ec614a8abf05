"""A dataset, a tuner and a report figure are each one new file: a throwaway distribution
with one module per kind, declared under the ``wsbench.datasets``, ``wsbench.tuners`` and
``wsbench.figures`` entry-point groups, is listed by `wsbench datasets|tuners|figures` (each
listing loading only its own kind: the three run in one process), runs
a real `wsbench bench` with the new dataset and tuner, and its figure appears in the report.
Nothing of wsbench is edited: the plugins are on PYTHONPATH of the subprocesses only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow(seconds=45)  # a real, small `wsbench bench` and `wsbench report`

MODULES = {
    "wsbench_toy_dataset": '''
        import numpy as np
        from bench.data import DatasetSource, RawArrays, register_dataset

        @register_dataset("toy-bars")
        class ToyBars(DatasetSource):
            description = "toy: 10x10 images with one bright row or column; class = row or column"
            pooled = True

            def load(self, count: int = 300) -> RawArrays:
                rng = np.random.default_rng(0)
                x = rng.uniform(0, 0.2, size=(count, 10, 10)).astype("float32")
                y = np.arange(count) % 2
                where = rng.integers(0, 10, size=count)
                for i in range(count):
                    if y[i]:
                        x[i, :, where[i]] = 1.0
                    else:
                        x[i, where[i], :] = 1.0
                return RawArrays(x, y)
    ''',
    "wsbench_toy_tuner": '''
        import keras_tuner as kt
        from bench.run.tuners import TunerKind, register_tuner

        @register_tuner("toy-grid")
        class ToyGrid(TunerKind):
            description = "toy: keras-tuner's GridSearch"
            keras_tuner_class = kt.GridSearch
    ''',
    "wsbench_toy_figure": '''
        from bench.report.figures import Drawn, register_figure
        from bench.report.style import new_figure

        @register_figure("fig9_toy_trials")
        def toy_trials(data):
            """Toy: trials per family."""
            fig = new_figure(4, 3)
            counts = data.trials.groupby("family").size()
            fig.add_subplot(1, 1, 1).bar(list(counts.index), list(counts.values))
            return [Drawn("fig9_toy_trials", fig, "toy figure: trials per family.")]
    ''',
}
ENTRY_POINTS = {"wsbench.datasets": "toy-bars = wsbench_toy_dataset", "wsbench.tuners": "toy-grid = wsbench_toy_tuner",
                "wsbench.figures": "fig9_toy_trials = wsbench_toy_figure"}


def write_distribution(site: Path) -> None:
    for module, source in MODULES.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / "wsbench_toy_kinds-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wsbench-toy-kinds\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("".join(f"[{g}]\n{e}\n" for g, e in ENTRY_POINTS.items()))
    (info / "RECORD").write_text("")


#: The three listings in one process, in this order; after each, whether TensorFlow is imported.
LISTINGS = """
import contextlib, io, json, sys
from bench.cli import main
out = {}
for kind in ("datasets", "figures", "tuners"):
    with contextlib.redirect_stdout(io.StringIO()) as text:
        code = main([kind])
    out[kind] = {"code": code, "text": text.getvalue(), "tensorflow": "tensorflow" in sys.modules}
print(json.dumps(out))
"""


def python(site: Path, *args: str) -> str:
    """``python <args>`` with the distribution of ``site`` installed (plugins enabled); its stdout."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("WSBENCH_DISABLE_PLUGINS", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), str(Path(__file__).resolve().parent.parent),
                                                      env.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def wsbench(site: Path, *args: str) -> str:
    return python(site, "-m", "bench.cli", *args)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    write_distribution(site)
    results = tmp_path_factory.mktemp("results")
    listings = json.loads(python(site, "-c", LISTINGS).strip().splitlines()[-1])
    out = wsbench(site, "bench", "--profile", "quick", "--dataset", "toy-bars", "--tuner", "toy-grid", "--families",
                  "conv", "--budgets", "3000", "--max-trials", "2", "--steps", "10", "--eval-every", "5", "--seeds", "1",
                  "--no-throughput", "--results-dir", str(results), "--run-name", "toy")
    report = wsbench(site, "report", "toy", "--results-dir", str(results))
    return listings, out, report, results / "toy"


def test_each_kind_is_listed_with_its_distribution(run):
    listings, _, _, _ = run
    for kind, name in (("datasets", "toy-bars"), ("tuners", "toy-grid"), ("figures", "fig9_toy_trials")):
        assert listings[kind]["code"] == 0, listings[kind]
        text = listings[kind]["text"]
        line = next(line for line in text.splitlines() if line.startswith(name))
        assert "plugin wsbench-toy-kinds 0.1" in line, text
        assert "toy" in line.split("0.1", 1)[1].lower()  # its description


def test_a_listing_loads_only_its_own_kind_of_plugin(run):
    """`wsbench datasets` and `wsbench figures` answer without TensorFlow although the installed
    tuner plugin imports keras-tuner (the parser reads no registry); `wsbench tuners` loads it."""
    listings, _, _, _ = run
    assert not listings["datasets"]["tensorflow"] and not listings["figures"]["tensorflow"]
    assert listings["tuners"]["tensorflow"]  # the plugin's own import: the probe can see one


def test_a_bench_runs_on_the_plugin_dataset_with_the_plugin_tuner(run):
    _, out, _, run_dir = run
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["config"]["dataset"] == "toy-bars" and meta["config"]["tuner"] == "toy-grid"
    assert meta["dataset"]["input_shape"] == [10, 10, 1] and meta["dataset"]["num_classes"] == 2
    trials = pd.read_csv(run_dir / "trials.csv")
    assert len(trials) == 2 and (trials["status"] == "completed").all()
    assert "toy-grid tuner" in out


def test_the_plugin_figure_is_drawn_into_the_report(run):
    _, _, _, run_dir = run
    assert (run_dir / "figures" / "fig9_toy_trials.png").stat().st_size > 1000
    text = (run_dir / "report.md").read_text()
    assert "toy figure: trials per family." in text and "](figures/fig9_toy_trials.png)" in text
