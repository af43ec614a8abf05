"""`wsbench bench` on the JAX backend, end to end.

One real ``wsbench bench --profile quick --backend jax`` run: tuning (keras-tuner), training
from the ``tf.data`` stream, final evaluation, baseline and the throughput stage all run on
JAX. (``wsbench speed --backend jax`` is tested in test_speed.py.)
"""

from __future__ import annotations

import json

import pytest

from bench.run.config import PROFILES
from bench_process import finish, start, table

pytestmark = pytest.mark.slow(seconds=60)
# One family: the stages are what this run checks on JAX; every family's layer runs on JAX in
# the backends pass. coordconv is a layer of wsbench's own (saved on JAX, its model is loaded
# on TensorFlow by the throughput stage's step-memory child).
FAMILIES = ("coordconv",)
TRIALS = 1  # one trial is a keras-tuner search on JAX all the same; each fit compiles with XLA, the run's main cost


@pytest.fixture(scope="module")
def jax_run(tmp_path_factory):
    results = tmp_path_factory.mktemp("jax")
    proc = start("bench", "--profile", "quick", "--backend", "jax", "--families", ",".join(FAMILIES),
                 "--max-trials", str(TRIALS), "--steps", "10", "--eval-every", "5", results_dir=results)
    out = finish(proc)
    return proc.returncode, out, results / "quick-digits"


def test_jax_run_exits_zero(jax_run):
    code, out, _ = jax_run
    assert code == 0, out[-3000:]


def test_jax_run_records_its_backend(jax_run):
    _, _, run = jax_run
    assert json.loads((run / "run.json").read_text())["config"]["backend"] == "jax"


def test_jax_run_has_a_final_row_for_every_family_budget_and_seed(jax_run):
    _, _, run = jax_run
    quick = PROFILES["quick"]
    final = table(run, "final")
    expected = {(f, str(b), str(s)) for f in FAMILIES for b in quick.budgets for s in range(quick.seeds)}
    assert set(zip(final["family"], final["budget"], final["seed"])) == expected
    assert len(final) == len(expected)
    assert final["test_accuracy"].between(0, 1).all()
    assert len(table(run, "trials")) == len(FAMILIES) * len(quick.budgets) * TRIALS
    assert set(table(run, "baseline")["family"]) == set(FAMILIES)


def test_jax_run_measured_throughput_of_every_family(jax_run):
    _, _, run = jax_run
    throughput = table(run, "throughput")
    assert sorted(throughput["family"]) == sorted(FAMILIES)
    assert (throughput["train_img_s"] > 0).all() and (throughput["infer_img_s"] > 0).all()
    assert (throughput["step_mem_mb"] > 0).all()  # the JAX-saved model, loaded by TensorFlow's counting allocator
