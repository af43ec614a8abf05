"""`wsbench bench`: validate everything, then search → final → throughput for every
family × budget, recording as it goes.

Nothing is written until every input has been checked, so bad input leaves results/
untouched. Rerunning the same command resumes: finished trials, final rows and
throughput rows are never redone or duplicated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from bench.run.distributed import Role, free_port_block, launch_local_workers, stop_workers
from bench.run.evaluation import run_final
from bench.run.budget import check_budget, check_tolerance
from bench.run.hypermodel import BudgetedHyperModel, TrainingSettings
from bench.store import ResultsError, RunDir, check_run_name, check_writable
from bench.run.search_space import cell_infeasibility
from bench.run.tuning import check_tuner, run_search


@dataclass
class BenchConfig:
    """Everything that defines a run; stored in run.json and compared on resume."""

    dataset: str = "digits"
    families: Tuple[str, ...] = ()
    budgets: Tuple[int, ...] = (3000, 10000, 30000)
    tuner: str = "random"
    max_trials: int = 4
    epochs: int = 15
    seeds: int = 3
    tolerance: float = 0.05
    batch_size: int = 64
    patience: int = 3
    seed: int = 0
    val_fraction: float = 0.15
    depth: int = 2
    head: str = "gap"
    profile: str = "default"
    run_name: str = ""
    results_dir: str = "results"
    throughput: bool = True
    throughput_batch: int = 128
    throughput_repeats: int = 5
    jobs: int = 1

    # Settings that may differ between a run and its resumption.
    RESUMABLE_DIFFERENCES = ("results_dir", "jobs")

    def comparable(self) -> Dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in self.RESUMABLE_DIFFERENCES:
            data.pop(key)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}={value!r} is not accepted: give a positive integer.")
    return value


def validate(config: BenchConfig) -> BenchConfig:
    """Checks every setting; raises ValueError naming the bad value and what is accepted."""
    from layers import get_family, list_families

    families = list_families() if config.families in ((), ("all",), "all") else list(config.families)
    if not families:
        raise ValueError("no family given: name at least one of " + ", ".join(list_families()) + " (or 'all').")
    for name in families:
        get_family(name)
    if len(set(families)) != len(families):
        raise ValueError(f"families {families} name a family twice: give each once.")
    budgets = [check_budget(b) for b in config.budgets]
    if not budgets:
        raise ValueError("no budget given: give at least one positive parameter count.")
    check_tuner(config.tuner)
    for name in ("max_trials", "epochs", "seeds", "batch_size", "patience", "depth", "throughput_batch",
                 "throughput_repeats", "jobs"):
        positive_int(getattr(config, name), name)
    check_tolerance(config.tolerance)
    if not 0 < config.val_fraction < 1:
        raise ValueError(f"val_fraction={config.val_fraction!r} is not accepted: give a fraction in (0, 1).")
    run_name = check_run_name(config.run_name or f"{config.profile}-{Path(config.dataset).stem}")
    return dataclasses.replace(config, families=tuple(families), budgets=tuple(budgets), run_name=run_name)


def infeasible_cells(config: BenchConfig, input_shape, num_classes) -> Dict[Tuple[str, int], str]:
    """(family, budget) → why no configuration of the family can meet the budget, for the
    cells where none can (see :func:`bench.run.search_space.cell_infeasibility`)."""
    out = {}
    for family in config.families:
        for budget in config.budgets:
            reason = cell_infeasibility(family, input_shape, num_classes, budget, tolerance=config.tolerance,
                                        depth=config.depth, head=config.head)
            if reason is not None:
                out[(family, budget)] = reason
    return out


class Progress:
    """One line per finished trial and an overall bar with an ETA."""

    def __init__(self, total: Optional[int], stream=None):
        # sys.stdout is looked up now, not when the module was imported (it may have been replaced since).
        self.total, self.done, self.start = total, 0, time.perf_counter()
        self.stream = stream if stream is not None else sys.stdout

    def trial(self, row: Dict[str, Any], max_trials: Optional[int]) -> None:
        self.done += 1
        acc = f"val_acc {row['val_accuracy']:.3f}" if row["status"] == "completed" else row["status"]
        params = f"{int(row['params']):,} params" if row.get("params") is not None else row.get("reason", "")
        wall = row.get("wall_s")
        wall = f"{wall:.1f} s" if isinstance(wall, (int, float)) and wall == wall else "-"
        of = f"/{max_trials}" if max_trials else ""
        print(f"  [{row['family']} | budget {int(row['budget']):,}] trial {row['trial_index']}{of}  "
              f"{params}  {acc}  {wall}", file=self.stream)
        self.bar()

    def bar(self) -> None:
        if not self.total:
            return
        frac = min(self.done / self.total, 1.0)
        elapsed = time.perf_counter() - self.start
        eta = elapsed / frac - elapsed if frac > 0 else float("nan")
        filled = int(frac * 30)
        print(f"  [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} trials  "
              f"elapsed {elapsed:.0f} s  ETA {eta:.0f} s", file=self.stream, flush=True)

    def final(self, row: Dict[str, Any]) -> None:
        if row["status"] != "completed":
            print(f"  [{row['family']} | budget {int(row['budget']):,}] {row['status']}: {row['reason']}",
                  file=self.stream, flush=True)
            return
        print(f"  [{row['family']} | budget {int(row['budget']):,}] seed {row['seed']}: "
              f"test_acc {row['test_accuracy']:.3f}  ({row['params']:,} params, {row['train_s']:.1f} s)",
              file=self.stream, flush=True)


def check_same_config(run: RunDir, config: BenchConfig) -> None:
    """Refuses to resume a run that was started with other settings, saying what differs."""
    stored = run.read_run().get("config", {})
    now = config.comparable()
    diffs = [f"{k}: {stored.get(k)!r} → {now[k]!r}" for k in now if stored.get(k) != now[k]]
    if diffs:
        raise ResultsError(f"run {config.run_name!r} in {config.results_dir} was started with another "
                           f"configuration ({'; '.join(diffs)}): rerun with the same settings to resume, "
                           f"or give a new --run-name.")


def check_inputs(config: BenchConfig):
    """Validates the configuration and the data, and that results can be written; writes
    nothing.

    Returns:
        (config, dataset, infeasible): the validated config, the loaded dataset, and the
        cells no configuration can meet (see :func:`infeasible_cells`).

    Raises:
        ValueError: naming the bad value, including a budget that no family can meet.
    """
    from bench.data.loading import DatasetError, load_dataset

    config = validate(config)
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
    return config, dataset, infeasible


def check_resumable(run: RunDir, config: BenchConfig) -> None:
    """Refuses a stored run that cannot be resumed with ``config``: other settings, a
    corrupted table or corrupted keras-tuner state. Reads only."""
    check_same_config(run, config)
    for table in ("trials", "final"):
        run.read(table)
    run.check_tuner_state()


def open_run(run: RunDir, config: BenchConfig, dataset, command: List[str]) -> None:
    """Creates run.json, or checks a stored run (:func:`check_resumable`) and marks it
    resumed. Call it holding the run's writer lock: only then is the stored state final."""
    if run.run_json.exists():
        check_resumable(run, config)
        run.update_run(status="running", resumed=dt.datetime.now().isoformat(timespec="seconds"))
        return
    from bench.environment import git_commit, hardware, library_versions

    run.write_run({
        "run_id": config.run_name, "command": " ".join(command), "config": config.comparable(),
        "tuner": {"kind": config.tuner, "max_trials": config.max_trials, "epochs": config.epochs,
                  "early_stopping": {"monitor": "val_loss", "patience": config.patience},
                  "objective": "val_accuracy", "seed": config.seed},
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


def infeasible_rows(context: Dict[str, Any], reason: str) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The trials.csv and final.csv rows of a cell that no configuration can meet."""
    reason = f"no configuration meets the budget: {reason}"
    trial = dict(context, trial_index=0, trial_id="cell", status="infeasible", reason=reason, hp="", width=None,
                 params=None, val_accuracy=None, val_loss=None, epochs=None, wall_s=None)
    final = dict(context, seed="", status="infeasible", reason=reason, best_hp="", width=None, params=None,
                 test_accuracy=None, test_loss=None, epochs=None, train_s=None)
    return trial, final


def training_settings(config: BenchConfig) -> TrainingSettings:
    return TrainingSettings(epochs=config.epochs, batch_size=config.batch_size, patience=config.patience,
                            depth=config.depth, head=config.head, tolerance=config.tolerance)


def cell_runner(config: BenchConfig, dataset, run: RunDir, infeasible: Dict[Tuple[str, int], str], *,
                role: Role = Role(), workers=()):
    """A function ``run_cell(family, budget, index, *, on_trial, on_final)`` that runs (or
    resumes) one family × budget cell of this run: its search and, unless distributed, its
    final evaluation. Returns (context, hypermodel, tuner), or None for a cell in
    ``infeasible``, which is recorded as such without building a model.

    The test split is only handed to the final evaluation, never to the search.
    """
    settings = training_settings(config)
    search_data = {"x_train": dataset.x_train, "y_train": dataset.y_train, "x_val": dataset.x_val,
                   "y_val": dataset.y_val}

    def run_cell(family: str, budget: int, index: int, *, on_trial, on_final):
        context = {"run_id": config.run_name, "dataset": config.dataset, "family": family, "budget": budget}
        if (family, budget) in infeasible:
            if role.kind != "worker":
                trial, final = infeasible_rows(context, infeasible[(family, budget)])
                run.append("trials", [trial])
                for row in run.append("final", [final]):
                    on_final(row)
            return None
        hypermodel = BudgetedHyperModel(family, dataset.input_shape, dataset.num_classes, budget, settings)
        tuner = run_search(run, context, hypermodel, search_data, tuner_kind=config.tuner, max_trials=config.max_trials,
                           epochs=config.epochs, batch_size=config.batch_size, seed=config.seed, report=on_trial,
                           role=role, search_index=index, workers=workers)
        if not role.distributed:
            # Single process: evaluate each cell as soon as its search ends.
            run_final(run, context, hypermodel, tuner, dataset, seeds=config.seeds, base_seed=config.seed,
                      report=on_final)
        return context, hypermodel, tuner

    return run_cell


def open_cells(config: BenchConfig):
    """The cell runner of a run that :func:`check_inputs` and :func:`open_run` have already validated and opened;
    used by ``--jobs`` worker processes, which write nothing but rows."""
    import tensorflow as tf

    from bench.data.loading import load_dataset

    tf.config.experimental.enable_op_determinism()
    dataset = load_dataset(config.dataset, val_fraction=config.val_fraction, seed=config.seed)
    infeasible = infeasible_cells(config, dataset.input_shape, dataset.num_classes)
    return cell_runner(config, dataset, RunDir(Path(config.results_dir) / config.run_name), infeasible)


def run_bench(config: BenchConfig, command: List[str], *, role: Role = Role(), local_workers: int = 0,
              worker_argv: Optional[List[str]] = None) -> RunDir:
    """Runs (or resumes) a whole benchmark and returns its run directory.

    Every input is checked before anything is written. The run directory is then held
    with its writer lock (:meth:`RunDir.writer`) to the end, so a second process on the
    same run is refused instead of writing rows twice.

    Args:
        config: the run's settings.
        command: the command line, recorded in run.json.
        role: single process (default), distributed chief, or distributed worker.
        local_workers: with a chief role, start this many workers here over loopback.
        worker_argv: the bench arguments the local workers are started with.
    """
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    config, dataset, infeasible = check_inputs(config)
    run = RunDir(Path(config.results_dir) / config.run_name)
    if role.kind == "worker":
        join_run(run, config)
        run_cell = cell_runner(config, dataset, run, infeasible, role=role)
        for index, (family, budget) in enumerate((f, b) for f in config.families for b in config.budgets):
            run_cell(family, budget, index, on_trial=lambda row: None, on_final=lambda row: None)
        return run
    if run.run_json.exists():
        check_resumable(run, config)  # refused before the lock file is touched
    with run.writer(" ".join(command)):
        open_run(run, config, dataset, command)
        _run_cells(config, dataset, infeasible, run, role, local_workers, worker_argv)
    return run


def _run_cells(config: BenchConfig, dataset, infeasible, run: RunDir, role: Role, local_workers: int,
               worker_argv: Optional[List[str]]) -> None:
    """The body of :func:`run_bench` for the process that writes the run."""
    cells = [(f, b) for f in config.families for b in config.budgets]
    jobs = 1 if role.distributed or local_workers else min(config.jobs, len(cells))
    workers = []
    if local_workers:
        role = Role("chief", "127.0.0.1", free_port_block(len(cells)))
        workers = launch_local_workers(local_workers, worker_argv or [], role.host, role.base_port)
    feasible = len(cells) - len(infeasible)
    total = feasible * config.max_trials if config.tuner != "hyperband" else None
    progress = Progress(total)
    trials = run.read("trials")
    progress.done = int((trials["trial_id"] != "cell").sum())
    on_trial = lambda row: progress.trial(row, total and config.max_trials)  # noqa: E731
    print(f"wsbench: run {config.run_name!r} → {run.path}  ({len(cells)} family × budget cells"
          + (f", {len(infeasible)} infeasible" if infeasible else "")
          + f", {config.tuner} tuner, {config.max_trials} trials each, {config.seeds} seeds"
          + (f", {local_workers} local workers" if local_workers else "")
          + (f", {jobs} cells at a time" if jobs > 1 else "") + ")", flush=True)
    completed = False
    tuners = {}
    try:
        if jobs > 1:
            from bench.run.parallel import run_cells_in_parallel

            run_cells_in_parallel(config, cells, jobs, on_trial=on_trial, on_final=progress.final)
        else:
            run_cell = cell_runner(config, dataset, run, infeasible, role=role, workers=workers)
            for index, (family, budget) in enumerate(cells):
                tuners[(family, budget)] = run_cell(family, budget, index, on_trial=on_trial,
                                                    on_final=progress.final)
        completed = True
    finally:
        # After the last search the workers exit by themselves; on an error they are killed.
        stop_workers(workers, timeout=60 if completed else 0)
    if role.distributed:
        for cell in tuners.values():
            if cell is not None:
                context, hypermodel, tuner = cell
                run_final(run, context, hypermodel, tuner, dataset, seeds=config.seeds, base_seed=config.seed,
                          report=progress.final)
    if config.throughput:
        from bench.run.throughput import measure_run

        print("wsbench: measuring throughput of the best models", flush=True)
        measure_run(run.path, batch=config.throughput_batch, repeats=config.throughput_repeats)
    run.update_run(status="complete", ended=dt.datetime.now().isoformat(timespec="seconds"))
