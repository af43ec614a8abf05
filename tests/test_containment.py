"""A family that raises is contained (bench.run.containment), a formula that disagrees with its
model refuses the run (bench.run.counts), and what failed is listed (bench.store.failures)
and retrained on a resume. The end-to-end behaviour, with real buggy plugins, is in
test_check_plugins.py; these are the pieces, on synthetic tables."""

from __future__ import annotations

import keras
import keras_tuner as kt
import pytest

from bench.run.containment import RefusedModel, failed_trial_on_error, forget_failures, stage_failure_recorded
from bench.run.counts import ParamCountMismatch, refuse_miscounted
from bench.run.tuning import _reason
from bench.store import RunDir
from bench.store.failures import failure_lines, run_failures

CONTEXT = {"run_id": "r", "dataset": "digits"}


def trial(family, budget, trial_id, status, reason=""):
    return dict(CONTEXT, family=family, budget=budget, trial_index=int(trial_id) + 1, trial_id=trial_id, status=status,
                reason=reason, hp="{}")


def stage_row(family, budget, seed, status="completed", reason=""):
    return dict(CONTEXT, family=family, budget=budget, seed=seed, status=status, reason=reason, trial="0", params=100)


@pytest.fixture
def run(tmp_path) -> RunDir:
    """conv @ 3,000 fine; bug @ 3,000: one trial raised (final done from the other, plain recipe
    failed); bug @ 10,000: every trial raised."""
    run = RunDir(tmp_path)
    error = "ValueError: depth_multiplier=1 is not supported"
    run.append("trials", [trial("conv", 3000, "0", "completed"), trial("bug", 3000, "0", "failed", error),
                          trial("bug", 3000, "1", "completed"), trial("bug", 10000, "0", "failed", error),
                          trial("bug", 10000, "1", "infeasible", "over budget")])
    run.append("final", [stage_row("conv", 3000, 0), stage_row("bug", 3000, 0),
                         stage_row("bug", 10000, "", "failed", f"no completed trial in 2: {error}")])
    run.append("baseline", [stage_row("conv", 3000, 0), stage_row("bug", 3000, "", "failed", error),
                            stage_row("bug", 10000, "", "failed", error)])
    run.append("throughput", [dict(run_id="r", family=f, budget=3000, params=100) for f in ("conv", "bug")])
    for family in ("conv", "bug"):
        run.model_path(family, 3000).parent.mkdir(exist_ok=True)
        run.model_path(family, 3000).write_text("model")
    return run


def test_every_failure_is_listed_cell_by_cell_with_its_reason(run):
    failures = run_failures(run)
    assert {(f.family, f.budget, f.what) for f in failures} == {
        ("bug", 3000, "trial 0"), ("bug", 10000, "trial 0"), ("bug", 10000, "tuned"), ("bug", 3000, "plain recipe"),
        ("bug", 10000, "plain recipe")}
    lines = failure_lines(failures)
    assert lines[0] == "bug @ 3,000: 1 trial failed (0): ValueError: depth_multiplier=1 is not supported; plain recipe: " \
                       "ValueError: depth_multiplier=1 is not supported"
    assert lines[1].startswith("bug @ 10,000: 1 trial failed (0): ValueError") and "tuned: no completed trial" in lines[1]


def test_a_resume_forgets_exactly_what_failed_and_what_depends_on_it(run):
    said = forget_failures(run, ("search", "final", "baseline"))
    assert "2 failed trial(s)" in said and "bug @ 3,000, bug @ 10,000" in said and "2 failed plain-recipe" in said
    trials = run.read("trials")
    assert sorted(zip(trials["family"], trials["budget"], trials["status"])) == [
        ("bug", 3000, "completed"), ("bug", 10000, "infeasible"), ("conv", 3000, "completed")]
    # A cell whose search reruns a trial has its final evaluation, model and throughput redone.
    assert run.keys("final") == {("conv", 3000, "0")}
    assert run.keys("throughput") == {("conv", 3000)}
    assert run.model_path("conv", 3000).exists() and not run.model_path("bug", 3000).exists()
    assert run.keys("baseline") == {("conv", 3000, "0")}
    assert run_failures(run) == [] and forget_failures(run, ("search", "final", "baseline")) == ""


def test_wsbench_baseline_forgets_only_failed_baseline_rows(run):
    forget_failures(run, ("baseline",))
    assert len(run.read("trials")) == 5 and len(run.read("final")) == 3
    assert run.keys("baseline") == {("conv", 3000, "0")}


def test_an_error_in_a_trial_becomes_a_failed_trial_with_its_type_and_message():
    with pytest.raises(kt.errors.FailedTrialError) as caught:
        with failed_trial_on_error():
            raise ValueError("depth_multiplier=1\nis not supported")
    assert str(caught.value) == "ValueError: depth_multiplier=1 is not supported"
    # keras-tuner records the traceback; trials.csv gets the error's type and message.
    message = "Traceback ...\nkeras_tuner.src.errors.FailedTrialError: ValueError: depth_multiplier=1 is not supported"
    assert _reason(message) == ("failed", "ValueError: depth_multiplier=1 is not supported")
    assert _reason("Traceback ...\nFailedTrialError: infeasible: no widths land") == ("infeasible", "no widths land")


def test_a_miscounted_model_in_a_trial_ends_the_run_as_bad_input():
    with pytest.raises(RefusedModel) as caught:
        with failed_trial_on_error():
            raise ParamCountMismatch("family 'x': ...")
    assert isinstance(caught.value, kt.errors.FatalError) and isinstance(caught.value, ValueError)
    with pytest.raises(kt.errors.FailedTrialError, match="infeasible: "):
        with failed_trial_on_error():
            raise kt.errors.FailedTrialError("infeasible: over budget")


def test_a_stage_that_raises_is_a_failed_row_and_a_miscount_is_not_contained(tmp_path):
    run, rows = RunDir(tmp_path), []
    context = dict(CONTEXT, family="bug", budget=3000)
    with stage_failure_recorded(run, "baseline", context, rows.append):
        raise RuntimeError("the layer broke")
    assert [(r["status"], r["reason"], r["seed"]) for r in rows] == [("failed", "RuntimeError: the layer broke", "")]
    assert run.read("baseline")["reason"].tolist() == ["RuntimeError: the layer broke"]
    with pytest.raises(ParamCountMismatch):
        with stage_failure_recorded(run, "final", context, rows.append):
            raise ParamCountMismatch("family 'bug': ...")
    assert not run.has("final")


def test_a_model_off_its_formula_is_refused_naming_family_shape_counts_and_the_check():
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3)])  # 20 trainable parameters
    refuse_miscounted(model, "conv", 20, "here")
    with pytest.raises(ParamCountMismatch) as caught:
        refuse_miscounted(model, "halfcount", 10, "the 4×4×1 input with block widths 2")
    message = str(caught.value)
    assert "'halfcount'" in message and "the 4×4×1 input" in message and "gives 10 " in message
    assert "has 20 (+10)" in message and "`wsbench check halfcount`" in message


def test_a_model_off_its_formula_mid_run_ends_the_run_and_is_never_recorded(tmp_path, monkeypatch):
    """A formula that is right for the plain recipe (so the check before the run passes) but
    halves the count with rank 8, which lrlc's own stream draws at trial 1: the run stops there
    (exit code 2 from the command), with no row for that trial."""
    import layers
    from bench.run.config import BenchConfig
    from bench.run.runner import run_bench

    lrlc = layers.get_family("lrlc")
    true_count = lrlc.param_count

    def lying(input_shape, filters, kernel_size, strides=1, padding="valid", rank=4, **hp):
        count = true_count(input_shape, filters, kernel_size, strides, padding, rank=rank, **hp)
        return count // 2 if rank == 8 else count

    monkeypatch.setattr(lrlc, "param_count", lying)  # the registry's instance: what every part of the run asks
    config = BenchConfig(dataset="digits", families=("lrlc",), budgets=(3000,), max_trials=2, steps=5, eval_every=5,
                         seeds=1, baseline_seeds=0, run_name="lie", results_dir=str(tmp_path), throughput=False, jobs=1)
    with pytest.raises(ParamCountMismatch, match=r"family 'lrlc'.*'rank': 8.*`wsbench check lrlc`"):
        run_bench(config, ["test"])
    trials = RunDir(tmp_path / "lie").read("trials")
    assert list(trials["trial_id"]) == ["0"] and (trials["status"] == "completed").all()
    assert not any('"rank": 8' in hp for hp in trials["hp"])
    assert not RunDir(tmp_path / "lie").has("final")
