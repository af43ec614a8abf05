"""Final and baseline seeds spread over the workers of a distributed run.

In a distributed run (``--workers N``, ``--role chief|worker``) the workers train the
searches' trials; the seeds after them would otherwise all fall to the chief. So the chief
hands them out through the same engine: a **seed job** is a keras-tuner search whose trial i
is task i — one seed of one cell's final or baseline configuration — served by the chief's
oracle (:mod:`bench.run.distributed`) on port ``base + cells + job``; workers pull tasks as
they pull trials, a lost worker's task goes to another (keras-tuner's retry queue), and the
whole job ends when every task is done. The chief publishes the jobs in ``seed_jobs.json``
of the run directory, which the workers follow after their last search (the run directory is
shared: loopback, or a shared file system across machines) until it says ``done``.

A task trains its seed alone (:func:`bench.run.evaluation.train_group` with one seed), which
gives it, bit for bit, the numbers a local run gives it among others, and writes the same
rows (correct.csv, curves.csv, then the row; the first final seed's model too).
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List

import keras_tuner as kt

from bench.store import RunDir
from bench.store.atomic import write_text_atomic

JOBS_FILE = "seed_jobs.json"
#: How long a worker waits for the chief's next seed job before it gives up.
WAIT_S = 3600.0


class SeedOracle(kt.Oracle):
    """Hands out task 0, 1, ..., n − 1 of a seed job, once each (failed ones are retried)."""

    def __init__(self, tasks: int, **kwargs):
        space = kt.HyperParameters()
        space.Int("task", 0, max(tasks - 1, 0))
        super().__init__(objective=kt.Objective("test_accuracy", "max"), max_trials=tasks, hyperparameters=space,
                         allow_new_entries=False, tune_new_entries=False, max_consecutive_failed_trials=10**6,
                         **kwargs)

    def populate_space(self, trial_id: str) -> Dict[str, Any]:
        return {"status": kt.engine.trial.TrialStatus.RUNNING, "values": {"task": int(trial_id)}}


class SeedTuner(kt.Tuner):
    """Trains one task per trial (see :func:`train_task`); ``tasks`` are the job's."""

    def __init__(self, oracle, tasks: List[Dict[str, Any]], train, **kwargs):
        super().__init__(oracle=oracle, hypermodel=None, **kwargs)
        self.tasks, self.train = tasks, train

    def run_trial(self, trial, *args, **kwargs):
        return self.train(self.tasks[int(trial.hyperparameters.get("task"))])

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        if getattr(self, "tuner_id", "chief") != "chief":
            task = self.tasks[int(trial.hyperparameters.get("task"))]
            print(f"  {self.tuner_id} trained {task['stage']} seed {task['seed']} of {task['family']} @ "
                  f"{task['budget']:,}: {trial.status.lower()}", flush=True)


def read_jobs(run: RunDir) -> Dict[str, Any]:
    path = run.path / JOBS_FILE
    return json.loads(path.read_text()) if path.exists() else {"jobs": [], "done": False}


def write_jobs(run: RunDir, jobs: List[Dict[str, Any]], done: bool) -> None:
    write_text_atomic(run.path / JOBS_FILE, json.dumps({"jobs": jobs, "done": done}, indent=1) + "\n")


def seed_tuner(run: RunDir, job: int, tasks: List[Dict[str, Any]], train, fresh: bool) -> SeedTuner:
    """The keras-tuner of seed job ``job``.

    ``fresh``: start the job's project anew (the tables are its record). Only the chief may,
    and before it publishes the job: keras-tuner deletes the project directory of a tuner made
    with ``overwrite=True``, while the chief's oracle and the other workers write their state
    there. When every worker did, one joining late deleted the files of a job in progress;
    in one `make test` the run then hung, the chief waiting for keras-tuner's oracle lock
    (which keras-tuner 1.4.8 never releases when an oracle call raises)."""
    return SeedTuner(SeedOracle(len(tasks), seed=job + 1), tasks, train, directory=str(run.tuner_dir),
                     project_name=f"seeds-{job}", overwrite=fresh)


def follow_jobs(run: RunDir, role, first_port_index: int, train, wait_s: float = WAIT_S) -> int:
    """A worker's part: joins every seed job the chief publishes, in order, until it says done.
    Returns the number of jobs joined."""
    from bench.run.distributed import keras_tuner_role

    joined, idle_since = 0, time.time()
    while True:
        state = read_jobs(run)
        if joined < len(state["jobs"]):
            tasks = state["jobs"][joined]["tasks"]
            with keras_tuner_role(role, first_port_index + joined):
                seed_tuner(run, joined, tasks, train, fresh=False).search(verbose=0)
            joined, idle_since = joined + 1, time.time()
        elif state["done"]:
            return joined
        elif time.time() - idle_since > wait_s:
            raise RuntimeError(f"no seed job came from the chief of run {run.name!r} within {wait_s:.0f} s")
        else:
            time.sleep(0.5)


def serve_job(run: RunDir, role, workers, port_index: int, job: int, tasks: List[Dict[str, Any]],
              record) -> None:
    """The chief's part of one seed job: makes its project, then publishes the job, serves its
    oracle until every task is done (re-queuing the task of a local worker that died),
    ``record()`` as rows come."""
    from bench.run.distributed import keras_tuner_role, serve_search

    with keras_tuner_role(role, port_index):
        tuner = seed_tuner(run, job, tasks, train=None, fresh=True)  # before any worker can see the job
        write_jobs(run, read_jobs(run)["jobs"] + [{"job": job, "tasks": tasks}], done=False)
        serve_search(lambda: tuner.search(verbose=0), tuner.oracle, record=record, workers=workers)


def cell_context(config, family: str, budget: int) -> Dict[str, Any]:
    return {"run_id": config.run_name, "dataset": config.dataset, "family": family, "budget": int(budget)}


def task_trainer(run: RunDir, config, protocol, dataset):
    """A worker's ``train(task)``: trains the task's seed alone and writes its rows; returns the
    seed's test accuracy (the job's objective, only recorded)."""
    from bench.run.containment import failed_trial_on_error
    from bench.run.evaluation import train_group
    from bench.run.hypermodel import BudgetedHyperModel
    from bench.run.search_space import declared

    hypermodels: Dict[tuple, BudgetedHyperModel] = {}

    def train(task: Dict[str, Any]) -> Dict[str, float]:
        key = (task["family"], int(task["budget"]))
        if key not in hypermodels:
            hypermodels[key] = BudgetedHyperModel(key[0], dataset.input_shape, dataset.num_classes, key[1], config,
                                                  protocol)
        hypermodel = hypermodels[key]
        hp = declared(hypermodel.choices, task["values"])
        with failed_trial_on_error():
            rows = train_group(run, task["stage"], cell_context(config, *key), hypermodel, hp, dataset,
                               [int(task["seed"])], report=lambda row: None, trial=str(task["trial"]),
                               save_seed=int(task["seed"]) if task["save"] else None)
        return {"test_accuracy": float(rows[0]["test_accuracy"]) if rows else 0.0}
    return train


def seed_tasks(run: RunDir, config, stage: str, context: Dict[str, Any], trial: str, hp, seeds: List[int],
               save: bool) -> List[Dict[str, Any]]:
    """The tasks of the seeds of ``seeds`` a cell's ``stage`` table does not hold yet."""
    done = run.keys(stage)
    values = dict(hp.values)  # the configuration's active values (it was declared from them)
    return [{"stage": stage, "family": context["family"], "budget": int(context["budget"]), "trial": trial,
             "values": values, "seed": int(s), "save": save and s == min(seeds)}
            for s in seeds if (context["family"], int(context["budget"]), str(s)) not in done]


class SeedJobs:
    """The chief's seed jobs of one run: each :meth:`serve` is one job, on the next port."""

    def __init__(self, run: RunDir, role, workers, first_port_index: int, report):
        self.run, self.role, self.workers, self.first, self.report = run, role, workers, first_port_index, report
        self.count, self.seen = 0, set()
        write_jobs(run, [], done=False)

    def serve(self, tasks: List[Dict[str, Any]]) -> None:
        """Hands ``tasks`` to the workers and returns once every one is done."""
        if not tasks:
            return
        print(f"wsbench: {len(tasks)} seeds handed to the workers (seed job {self.count})", flush=True)
        serve_job(self.run, self.role, self.workers, self.first + self.count, self.count, tasks, record=self.record)
        self.count += 1

    def record(self) -> None:
        """Reports every final or baseline row the workers wrote since the last call."""
        for table in ("final", "baseline"):
            for row in self.run.read(table).to_dict("records"):
                key = (table, row["family"], int(row["budget"]), str(row["seed"]))
                if key not in self.seen:
                    self.seen.add(key)
                    self.report(row)

    def close(self) -> None:
        """Tells the workers there is no more job."""
        write_jobs(self.run, read_jobs(self.run)["jobs"], done=True)


def spread_seeds(run: RunDir, config, dataset, finished, jobs: SeedJobs, stages, progress) -> None:
    """The chief's seeds of a distributed run, through seed jobs: every cell's final seeds,
    then the baseline seeds (after copying what the final seeds already hold), then, with
    ``--seeds auto``, the rounds where comparisons are open. ``finished`` holds (context,
    hypermodel, tuner, seeds) of every cell the searches ran."""
    from bench.run.cells import seed_numbers
    from bench.run.evaluation import baseline_recipe, final_configuration, no_trial_row
    from bench.run.seeds import rounds

    hypermodels = {(c["family"], int(c["budget"])): (c, h) for c, h, _, _ in finished}
    if "final" in stages:
        tasks = []
        for context, hypermodel, tuner, seeds in finished:
            chosen = final_configuration(run, context, hypermodel, tuner)
            if chosen is None:
                for row in run.append("final", [no_trial_row(run, context)]):
                    progress.final(row)
                continue
            tasks += seed_tasks(run, config, "final", context, chosen[0], chosen[1], seed_numbers(config, seeds), True)
        jobs.serve(tasks)
    if "baseline" in stages and config.baseline_seeds:
        tasks, seeds = [], seed_numbers(config, config.baseline_seeds)
        for context, hypermodel, _, _ in finished:
            hp = baseline_recipe(run, context, hypermodel, seeds=seeds, report=progress.final)
            if hp is not None:
                tasks += seed_tasks(run, config, "baseline", context, "recipe", hp, seeds, False)
        jobs.serve(tasks)
    if config.seeds == "auto" and "final" in stages:
        def train_round(todo):
            tasks = []
            for family, budget, n in todo:
                context, hypermodel = hypermodels[(family, budget)]
                trial, hp = final_configuration(run, context, hypermodel)
                tasks += seed_tasks(run, config, "final", context, trial, hp, seed_numbers(config, n), True)
            jobs.serve(tasks)
        rounds(run, config, len(dataset.y_test), train_round, progress)
