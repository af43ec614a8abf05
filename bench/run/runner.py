"""`wsbench bench`: validate everything, then search → final → throughput for every
family × budget, recording as it goes.

Nothing is written until every input has been checked, so bad input leaves results/
untouched. Rerunning the same command resumes: finished trials, final rows and
throughput rows are never redone or duplicated.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import List, Optional, Tuple

from bench import backend
from bench.run.cells import STAGES, cell_runner, finish_cell, infeasible_cells
from bench.run.config import BenchConfig
from bench.run.containment import forget_failures
from bench.run.counts import check_run_formulas
from bench.run.distributed import Role, free_port_block, launch_local_workers, stop_workers
from bench.run.progress import start_progress
from bench.run.protocol import Protocol
from bench.run.seed_jobs import SeedJobs, follow_jobs, spread_seeds, task_trainer
from bench.run.seeds import rounds
from bench.run.steps import settle_protocol, stored_protocol
from bench.stats import REFERENCE
from bench.stats.sequential import START
from bench.stats.verdicts import ALPHA
from bench.run.search_space import EDGE, declared, shared_hyperparameters
from bench.run.tuners import get_tuner
from bench.store import ResultsError, RunDir, check_writable
from bench.store.tensorboard import write_hparams
from bench.report.summary_csv import write_summary_csv


def check_same_config(run: RunDir, config: BenchConfig) -> None:
    """Refuses to resume a run that was started with other settings, saying what differs."""
    stored = run.read_run().get("config", {})
    now = config.comparable()
    # A setting added after the run was stored had its default value in that run.
    defaults = BenchConfig().comparable()
    stored = {k: stored.get(k, defaults[k]) for k in now}
    diffs = [f"{k}: {stored[k]!r} → {now[k]!r}" for k in now if stored[k] != now[k]]
    if diffs:
        raise ResultsError(f"run {config.run_name!r} in {config.results_dir} was started with another "
                           f"configuration ({'; '.join(diffs)}): rerun with the same settings to resume, "
                           f"or give a new --run-name.")


def check_inputs(config: BenchConfig):
    """Validates the configuration and the data, that results can be written, and that every
    family's parameter-count formula agrees with the models it builds at the run's shapes;
    sets this process up to train (:func:`bench.backend.configure`, before the first model is
    built); writes nothing.

    Returns:
        (config, dataset, infeasible): the validated config, the loaded dataset, and the
        cells no configuration can meet (see :func:`infeasible_cells`).

    Raises:
        ValueError: naming the bad value, including a budget that no family can meet, and a
            family whose formula disagrees with its models
            (:class:`bench.run.counts.ParamCountMismatch`).
    """
    from bench.data import DatasetError, load_dataset

    config = config.validated()
    try:
        dataset = load_dataset(config.dataset, val_fraction=config.val_fraction, seed=config.seed)
    except DatasetError as exc:
        if config.dataset in str(exc):
            raise
        # Say which file a data check (shape, NaN, labels) refers to.
        raise DatasetError(f"dataset {config.dataset!r}: {exc}") from None
    infeasible = infeasible_cells(config, dataset.input_shape, dataset.num_classes)
    for budget in config.budgets:
        if all((f, budget) in infeasible for f in config.families):
            raise ValueError(f"budget {budget:,} cannot be met by any of {list(config.families)} within "
                             f"±{config.tolerance:.0%} on {config.dataset} {dataset.input_shape}: give a larger "
                             f"budget or a larger --tolerance.")
    check_writable(Path(config.results_dir))
    backend.configure(config)
    check_run_formulas(config, dataset.input_shape, dataset.num_classes)
    return config, dataset, infeasible


def check_resumable(run: RunDir, config: BenchConfig) -> None:
    """Refuses a stored run that cannot be resumed with ``config``: other settings, a
    corrupted table or corrupted keras-tuner state. Reads only."""
    check_same_config(run, config)
    for table in ("trials", "final"):
        run.read(table)
    run.check_tuner_state()


def open_run(run: RunDir, config: BenchConfig, dataset, command: List[str], stages: Tuple[str, ...] = STAGES) -> None:
    """Creates run.json, or checks a stored run (:func:`check_resumable`), marks it resumed and
    removes what failed in it, to be retrained (:func:`forget_failures`). Call it holding the
    run's writer lock: only then is the stored state final."""
    if run.run_json.exists():
        check_resumable(run, config)
        run.update_run(status="running", resumed=dt.datetime.now().isoformat(timespec="seconds"))
        retrying = forget_failures(run, stages)
        if retrying:
            print(retrying, flush=True)
        return
    from bench.environment import git_commit, hardware, library_versions

    tuner = get_tuner(config.tuner)
    run.write_run({
        "run_id": config.run_name, "command": " ".join(command), "config": config.comparable(),
        "search_space": {"shared": declared(shared_hyperparameters, {}).get_config(), "edge": EDGE},
        "tuner": {"kind": config.tuner, "description": tuner.description, "common_numbers": tuner.common_numbers,
                  "trials_per_cell": config.max_trials, "objective": "val_accuracy (ties: lower val_loss)",
                  "seed": config.seed},
        "verdicts": {"alpha": ALPHA, "margin_points": config.margin, "reference": REFERENCE},
        "dataset": {"name": config.dataset, "input_shape": list(dataset.input_shape),
                    "num_classes": dataset.num_classes, "sizes": dataset.sizes()},
        "versions": library_versions(), "hardware": hardware(), "git_commit": git_commit(),
        "started": dt.datetime.now().isoformat(timespec="seconds"), "ended": None, "status": "running",
    })


def join_run(run: RunDir, config: BenchConfig) -> None:
    """A distributed worker's check of the run it joins: the same configuration. A worker
    never writes run.json and holds no lock (the chief records every row)."""
    if run.run_json.exists():
        check_same_config(run, config)
    run.path.mkdir(parents=True, exist_ok=True)


#: Ports a distributed chief keeps beyond one per cell, for its seed jobs (bench.run.seed_jobs).
MAX_SEED_JOBS = 16


def cells_of(config: BenchConfig) -> List[Tuple[str, int]]:
    """The run's family × budget cells, in order (a cell's position is its search index)."""
    return [(f, b) for f in config.families for b in config.budgets]


def run_bench(config: BenchConfig, command: List[str], *, role: Role = Role(), local_workers: int = 0,
              worker_argv: Optional[List[str]] = None, stages: Tuple[str, ...] = STAGES) -> RunDir:
    """Runs (or resumes) a whole benchmark and returns its run directory.

    Every input is checked before anything is written. The run directory is then held
    with its writer lock (:meth:`RunDir.writer`) to the end, so a second process on the
    same run is refused instead of writing rows twice. The protocol is settled first (with
    ``--steps auto``, its steps chosen), then every cell runs its stages with the first seeds,
    then (``--seeds auto``) seeds are added in rounds where verdicts are open.

    Args:
        config: the run's settings.
        command: the command line, recorded in run.json.
        role: single process (default), distributed chief, or distributed worker.
        local_workers: with a chief role, start this many workers here over loopback.
        worker_argv: the bench arguments the local workers are started with.
        stages: the stages of every cell to run (``wsbench baseline`` runs only the baseline).
    """
    config, dataset, infeasible = check_inputs(config)
    run = RunDir(Path(config.results_dir) / config.run_name)
    if role.kind == "worker":
        join_run(run, config)
        protocol = stored_protocol(run, config)
        run_cell = cell_runner(config, dataset, run, infeasible, protocol, role=role)
        for index, (family, budget) in enumerate(cells_of(config)):
            run_cell(family, budget, index, seeds=0, on_trial=lambda row: None, on_final=lambda row: None)
        follow_jobs(run, role, len(cells_of(config)), task_trainer(run, config, protocol, dataset))
        return run
    if run.run_json.exists():
        check_resumable(run, config)  # refused before the lock file is touched
    with run.writer(" ".join(command)):
        open_run(run, config, dataset, command, stages)
        jobs = 1 if role.distributed or local_workers else min(config.jobs, len(cells_of(config)))
        protocol = settle_protocol(run, config, dataset, infeasible, jobs)
        progress = start_progress(run, config, len(cells_of(config)) - len(infeasible), stages)
        announce(config, run, protocol, infeasible, local_workers, jobs, stages)
        first = START if config.seeds == "auto" else config.seeds
        tasks = [(i, f, b, first) for i, (f, b) in enumerate(cells_of(config))]
        workers = []
        if local_workers:
            role = Role("chief", "127.0.0.1", free_port_block(len(tasks) + MAX_SEED_JOBS))
            workers = launch_local_workers(local_workers, worker_argv or [], role.host, role.base_port)
        completed = False
        try:
            finished = _run_cells(config, protocol, dataset, infeasible, run, role, workers, stages, tasks, progress,
                                  jobs)
            if role.distributed:
                seed_jobs = SeedJobs(run, role, workers, len(tasks), progress.final)
                try:
                    spread_seeds(run, config, dataset, finished, seed_jobs, stages, progress)
                finally:
                    seed_jobs.close()
                for context, hypermodel, tuner, seeds in finished:  # what a job left undone (a task that failed)
                    finish_cell(run, config, context, hypermodel, tuner, dataset, progress.final, stages, seeds)
            elif config.seeds == "auto" and "final" in stages:
                index = {cell: i for i, cell in enumerate(cells_of(config))}
                rounds(run, config, len(dataset.y_test), lambda todo: _run_cells(
                    config, protocol, dataset, infeasible, run, role, workers, ("final",),
                    [(index[(f, b)], f, b, n) for f, b, n in todo], progress, jobs), progress)
            completed = True
        finally:
            # After the last seed job the workers exit by themselves; on an error they are killed.
            stop_workers(workers, timeout=60 if completed else 0)
        if config.throughput and "final" in stages:
            from bench.run.throughput import measure_run

            print("wsbench: measuring throughput of the best models", flush=True)
            measure_run(run.path, batch=config.throughput_batch, repeats=config.throughput_repeats,
                        progress=lambda line: print(f"wsbench: {line}", flush=True))
        write_hparams(run.path)  # the whole study in TensorBoard's HParams dashboard
        write_summary_csv(run.path)  # one row per family × budget, the table to paste
        run.update_run(status="complete", ended=dt.datetime.now().isoformat(timespec="seconds"))
    return run


def announce(config: BenchConfig, run: RunDir, protocol: Protocol, infeasible, local_workers: int, jobs: int,
             stages) -> None:
    """The run's first line: what it will do."""
    if "search" not in stages:
        return
    print(f"wsbench: run {config.run_name!r} → {run.path}  ({len(cells_of(config))} family × budget cells"
          + (f", {len(infeasible)} infeasible" if infeasible else "")
          + f", {config.tuner} tuner, {config.max_trials} trials, every model {protocol.steps:,} steps, "
          + (f"{START} seeds then more where verdicts are open (up to {config.max_seeds})"
             if config.seeds == "auto" else f"{config.seeds} seeds")
          + (f", {config.baseline_seeds} baseline seeds" if config.baseline_seeds else "")
          + (f", {local_workers} local workers" if local_workers else "")
          + (f", {jobs} cells at a time" if jobs > 1 else "") + ")", flush=True)


def _run_cells(config: BenchConfig, protocol: Protocol, dataset, infeasible, run: RunDir, role: Role, workers,
               stages: Tuple[str, ...], tasks, progress, jobs: int) -> list:
    """Runs ``tasks`` (search index, family, budget, final seeds) with the process that writes
    the run; returns (context, hypermodel, tuner, seeds) of every cell a distributed chief
    searched (their seeds come after, from the workers)."""
    on_trial = lambda row: progress.trial(row, config.max_trials)  # noqa: E731
    if jobs > 1 and not role.distributed:
        from bench.run.parallel import run_cells_in_parallel

        run_cells_in_parallel(config, protocol, tasks, jobs, on_trial=on_trial, on_final=progress.final,
                              stages=stages)
        return []
    run_cell = cell_runner(config, dataset, run, infeasible, protocol, role=role, workers=workers, stages=stages)
    finished = []
    for index, family, budget, seeds in tasks:
        cell = run_cell(family, budget, index, seeds=seeds, on_trial=on_trial, on_final=progress.final)
        if cell is not None:
            finished.append((*cell, seeds))
    return finished
