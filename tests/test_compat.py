"""Every private keras-tuner / TensorFlow internal wsbench uses is still where bench.compat
expects it. An upgrade that moves one fails here, naming it, instead of deep inside a run."""

from __future__ import annotations

import time

import keras_tuner as kt
import pytest

from bench import compat


def test_keras_tuner_debug_flag_exists():
    from keras_tuner.src import config

    assert isinstance(config.DEBUG, bool), "keras_tuner.src.config.DEBUG moved (bench.compat.quiet_failed_trials)"
    compat.quiet_failed_trials()
    assert config.DEBUG is False


def test_oracle_lock_and_retry_queue_exist():
    oracle = kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=1)
    with compat.oracle_lock(oracle):  # keras_tuner.src.engine.oracle.LOCKS
        queue = compat.retry_queue(oracle)  # Oracle._retry_queue
    assert queue == [], "Oracle._retry_queue moved or changed type (bench.compat.retry_queue)"


def test_an_oracle_lock_left_held_by_a_failed_oracle_call_is_an_error_not_a_hang():
    """keras-tuner's @synchronized does not release the lock when the method raises."""
    oracle = kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=1)
    oracle.create_trial = kt.synchronized(lambda self, tuner_id: 1 / 0).__get__(oracle)
    with pytest.raises(ZeroDivisionError):
        oracle.create_trial("worker0")
    with pytest.raises(RuntimeError, match="still held after 0 s.*rerun the same command"):
        with compat.oracle_lock(oracle, wait_s=0.1):
            pass


def test_the_chief_reads_time_from_a_module_global_and_it_is_restored():
    from keras_tuner.src.distribute import oracle_chief

    assert oracle_chief.time is time, "oracle_chief no longer imports time (bench.compat.fast_chief_exit)"
    with compat.fast_chief_exit():
        started = time.monotonic()
        oracle_chief.time.sleep(30)  # what the chief's exit poll does
        assert time.monotonic() - started < 2 * compat.CHIEF_EXIT_POLL_S
    assert oracle_chief.time is time


def test_tensorflow_gradient_registry_is_a_dict():
    registry = compat.gradient_registry()
    assert isinstance(registry, dict), "tensorflow ops.gradient_registry._registry moved (bench.compat)"


def test_keras_tuner_state_is_written_by_rename_so_a_kill_never_leaves_it_empty(tmp_path, monkeypatch):
    compat.atomic_tuner_state()
    oracle = kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=1)
    oracle._set_project_dir(str(tmp_path), "p")  # what a Tuner does with directory/project_name
    path = tmp_path / "p" / "oracle.json"
    path.parent.mkdir()
    path.write_text("old")
    replaced = []
    real_replace = __import__("os").replace
    monkeypatch.setattr("os.replace", lambda src, dst: (replaced.append(dst), real_replace(src, dst)))
    oracle.save()  # Oracle.save -> Stateful.save -> keras_tuner.src.utils.save_json
    assert [str(d) for d in replaced] == [str(path)], "keras-tuner no longer saves via utils.save_json"
    assert '"ongoing_trials"' in path.read_text()
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["oracle.json"]


def test_a_trial_saved_but_not_yet_in_oracle_json_is_run_again_after_a_kill(tmp_path):
    """The kill window inside keras-tuner's create_trial: trial.json (RUNNING) is on disk,
    oracle.json does not list the trial yet. Without the requeue the trial never runs."""

    def oracle():
        made = kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=2, seed=1)
        made.hyperparameters.Float("lr", 0.1, 1.0)
        made._set_project_dir(str(tmp_path), "p")
        return made

    first = oracle()
    done = first.create_trial("t")
    first.update_trial(done.trial_id, {"val_loss": 1.0})
    done.status = "COMPLETED"  # what the tuner sets before it ends a trial that ran
    first.end_trial(done)
    state = (tmp_path / "p" / "oracle.json").read_text()
    lost = first.create_trial("t")  # saves trial_1/trial.json, then oracle.json ...
    (tmp_path / "p" / "oracle.json").write_text(state)  # ... which the kill did not reach

    second = oracle()
    second.reload()
    # keras-tuner queued the completed trial 0 (oracle.json was saved while it was ongoing)
    # and not trial 1, which is RUNNING on disk.
    assert compat.retry_queue(second) == [done.trial_id] and second.trials[lost.trial_id].status == "RUNNING"
    assert compat.requeue_interrupted_trials(second) == [lost.trial_id]
    assert compat.retry_queue(second) == [lost.trial_id]  # the completed trial is not trained again
    assert second.create_trial("t").trial_id == lost.trial_id  # run again, not STOPPED
    assert compat.requeue_interrupted_trials(second) == []  # now ongoing: nothing more to requeue


def test_failed_trials_run_again_with_their_values_and_infeasible_ones_do_not(tmp_path):
    """bench.compat.requeue_failed_trials: a resumed search reruns the trials whose layer raised."""
    oracle = kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=2, seed=1)
    oracle.hyperparameters.Float("lr", 0.1, 1.0)
    oracle._set_project_dir(str(tmp_path), "p")
    ended = []
    for message in ("ValueError: the layer raised", "infeasible: over budget"):
        trial = oracle.create_trial("t")
        trial.status, trial.message = "FAILED", message
        oracle.end_trial(trial)
        ended.append(trial)
    assert oracle.create_trial("t").status == "STOPPED"  # max_trials reached

    again = compat.requeue_failed_trials(oracle, lambda t: "infeasible" not in t.message)
    assert again == [ended[0].trial_id] and oracle.trials[ended[0].trial_id].status == "RUNNING"
    rerun = oracle.create_trial("t")  # Oracle.create_trial empties the retry queue before counting trials
    assert rerun.trial_id == ended[0].trial_id and rerun.hyperparameters.values == ended[0].hyperparameters.values
    assert oracle.trials[ended[1].trial_id].status == "FAILED"


def test_a_tuner_learns_its_space_without_building_a_model_while_declaring_only(tmp_path):
    """bench.compat.declaring_only: BaseTuner.__init__ learns the space through
    _populate_initial_space, which builds the hypermodel; with declaring_only it only declares."""

    class Raising(kt.HyperModel):
        def build(self, hp):
            hp.Choice("depth_multiplier", [1, 2])
            raise ValueError("a layer that raises at its defaults")

    class Declaring(kt.RandomSearch):
        def _populate_initial_space(self):
            with compat.declaring_only(self.hypermodel, lambda hp: hp.Choice("depth_multiplier", [1, 2])):
                super()._populate_initial_space()

    hypermodel = Raising()
    tuner = Declaring(hypermodel=hypermodel, objective="val_loss", max_trials=1, directory=str(tmp_path),
                      project_name="p")
    assert [h.name for h in tuner.oracle.get_space().space] == ["depth_multiplier"]
    assert "build" not in vars(hypermodel)  # the method is back
    with pytest.raises(ValueError, match="raises at its defaults"):
        hypermodel.build(kt.HyperParameters())
