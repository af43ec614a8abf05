"""``wsbench speed --fits``: whole converged fits per minute on each backend, side by side.

What a user of the harness waits for is not one layer's step but whole trainings: the
default profile's plain-recipe models on digits, 400 steps each by the real protocol,
tracing and compilation included. Keras fixes its backend per process, so each backend
trains in a fresh process of its own (:mod:`bench.speed.fit_worker`), one after the other
in the same command; with ``--repeats`` above 1 the backend that goes first alternates, so
a slow stretch of the machine does not always hit the same one. The table
(:mod:`bench.speed.fits_table`) gives per family and budget the median fit time and fits
per minute of each backend and the JAX/TF ratio of fits per minute, plus the steady state
(a fit without its one-off tracing) and the fits' accuracy and convergence, so the speeds
compared are those of equally good fits.

Every fit is a row of ``results/fits.csv`` (appended; ``run_id`` groups one invocation).
It is a file of its own because its rows are whole trainings, with accuracy and
convergence, not the layer rows keyed by shape of ``results/speed.csv``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

from bench.speed.fit_worker import PATHS, PREFIX

DEFAULT_OUT = Path("results") / "fits.csv"
BACKEND_ORDER = ("tensorflow", "jax")
#: Small enough to finish in a few minutes on 2 cores: the conv baseline, the unshared layer
#: and the two soft-sharing layers, at the default profile's middle budget.
DEFAULT_FAMILIES = ("conv", "locally_connected", "sisws", "lrlc")
DEFAULT_BUDGETS = (10000,)
#: Flags that only mean something with --fits (dest → flag), refused without it.
FIT_FLAGS = {"budgets": "--budgets", "backends": "--backends"}
COLUMNS = ["run_id", "timestamp", "repeat", "position", "backend", "path", "seeds_per_program", "steps_per_execution",
           "family", "budget", "params", "widths", "status",
           "reason", "fit_s", "fits_per_min", "build_s", "train_s", "first_epoch_s", "steady_fit_s", "overhead_s",
           "val_accuracy", "val_loss", "best_step", "steps_run", "converged", "diverged", "steps", "eval_every",
           "batch_size", "seed", "threads", "thread_env", "dataset", "device", "python", "tensorflow", "keras",
           "keras_tuner", "jax", "jaxlib", "numpy"]


def add_arguments(p) -> None:
    """The flags of ``wsbench speed`` that only --fits reads (it shares --families, --repeats,
    --quick, --threads and --out with the layer timings)."""
    g = p.add_argument_group("whole fits per backend (--fits; also reads --families, --repeats, --quick, "
                             "--threads, --out)")
    g.add_argument("--fits", action="store_true",
                   help="time whole fits of the default profile's plain-recipe models on each backend instead of "
                        f"single layer steps (default families {','.join(DEFAULT_FAMILIES)}, 1 repeat; --quick: "
                        "20 steps, for tests)")
    g.add_argument("--budgets", help="comma-separated trainable-parameter budgets of the models (default "
                                     f"{','.join(map(str, DEFAULT_BUDGETS))})")
    g.add_argument("--backends", help=f"comma-separated backends (default {','.join(BACKEND_ORDER)})")


def family_list(text) -> List[str]:
    """The families ``--families`` names, each registered (empty when it was not given)."""
    import layers
    from bench.run.command import split_list

    names = list(dict.fromkeys(split_list(text, "--families"))) if text else []
    for name in names:
        layers.get_family(name)
    return names


def refuse_fit_flags(args) -> None:
    """Raises ValueError naming a --fits flag given without --fits."""
    given = [flag for dest, flag in FIT_FLAGS.items() if getattr(args, dest, None) is not None]
    if given:
        raise ValueError(f"{given[0]} applies only with --fits (whole fits per backend).")


def _request(args) -> Dict[str, object]:
    """The validated settings every child gets (without the backend)."""
    from bench.run.command import split_list
    from bench.run.config import PROFILES, check_budget

    from bench.run.protocol import START_STEPS
    from bench.stats.sequential import START

    # --quick borrows the quick profile's schedule: a real fit of every kind, just not a converged one.
    schedule = PROFILES["quick" if args.quick else "default"]
    default = PROFILES["default"]
    budgets = [check_budget(b) for b in split_list(args.budgets, "--budgets")] if args.budgets else DEFAULT_BUDGETS
    steps = START_STEPS if schedule.steps == "auto" else schedule.steps  # what --steps auto starts from
    return dict(families=family_list(args.families) or list(DEFAULT_FAMILIES), budgets=list(dict.fromkeys(budgets)),
                steps=steps, eval_every=schedule.eval_every, seed=default.seed, seeds=2 if args.quick else START,
                paths=list(PATHS), threads=args.threads if args.threads is not None else default.threads)


def _backends(args) -> List[str]:
    from bench.backend import check
    from bench.run.command import split_list

    names = list(split_list(args.backends, "--backends")) if args.backends else list(BACKEND_ORDER)
    if len(set(names)) != len(names):
        raise ValueError(f"--backends {args.backends!r} names a backend twice: give each once.")
    return [check(name) for name in names]


def run_child(backend: str, request: Dict[str, object], log=print) -> List[Dict]:
    """Trains ``request`` in a fresh process on ``backend``; returns its rows (logged as they come).

    Raises:
        RuntimeError: the child failed; the message carries the end of its stderr.
    """
    from bench.backend import JAX_THREADS_ENV

    # The child imports this very checkout (a worktree may not be the installed one).
    root = str(Path(__file__).resolve().parent.parent.parent)
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"))
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop(JAX_THREADS_ENV, None)  # the child sets it from threads (0: JAX's own default)
    rows = []
    with tempfile.TemporaryFile("w+") as err:  # a file, not a pipe: a chatty stderr cannot block the child
        child = subprocess.Popen([sys.executable, "-m", "bench.speed.fit_worker"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=root)
        child.stdin.write(json.dumps(request))
        child.stdin.close()
        for line in child.stdout:
            if line.startswith(PREFIX):
                row = json.loads(line[len(PREFIX):])
                rows.append(row)
                log(_progress(row))
        code = child.wait()
        if code != 0:
            err.seek(0)
            tail = [line for line in err.read().splitlines() if line.strip()][-5:]
            raise RuntimeError(f"the {backend} fit process failed (exit {code}): " + " | ".join(tail))
    return rows


def _progress(row) -> str:
    cell = f"{row['backend']:10s} {row['family']:18s} {row['budget']:>6}"
    if row["status"] != "completed":
        return f"  {cell} {row['status']}: {row['reason']}"
    return (f"  {cell} fit {row['fit_s']:6.2f} s (steady {row['steady_fit_s']:6.2f} s)  val_acc "
            f"{row['val_accuracy']:.3f}  {'converged' if row['converged'] else 'NOT converged'}")


def run(args) -> int:
    """``wsbench speed --fits``: trains on every backend, prints the table, appends results/fits.csv."""
    import pandas as pd

    from bench.speed.fits_table import format_paths, format_summary, summarize, summarize_paths
    from bench.store.atomic import write_csv_atomic

    request, backends = _request(args), _backends(args)
    repeats = args.repeats if args.repeats is not None else 1
    out = Path(args.out or DEFAULT_OUT)
    if out.exists() and out.is_dir():
        raise ValueError(f"--out {out} is a directory: give a file path such as {DEFAULT_OUT}.")
    stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    print(f"wsbench speed --fits: {', '.join(backends)}; {', '.join(request['families'])} at budget(s) "
          f"{', '.join(map(str, request['budgets']))}; {request['seeds']} seeds of each, one program per seed and "
          f"all as one program; {request['steps']} steps (validate every {request['eval_every'] or 'an eighth'}), "
          f"{request['threads'] or 'default'} thread(s) per process, {repeats} repeat(s)", flush=True)
    rows = []
    for r in range(repeats):
        order = backends if r % 2 == 0 else backends[::-1]
        for position, backend in enumerate(order, start=1):
            print(f"repeat {r + 1}/{repeats}: {backend} (fresh process)", flush=True)
            for row in run_child(backend, dict(request, backend=backend), log=lambda m: print(m, flush=True)):
                fit_s = row.get("fit_s")
                rows.append(dict(row, run_id=stamp, timestamp=stamp, repeat=r + 1, position=position,
                                 fits_per_min=60 / fit_s if fit_s else None))
    df = pd.DataFrame(rows).reindex(columns=COLUMNS)
    print()
    print(format_summary(summarize(df[df["path"] == "together"], backends)))
    print()
    print(format_paths(summarize_paths(df, backends)))
    if out.exists():
        df = pd.concat([pd.read_csv(out), df], ignore_index=True).reindex(columns=COLUMNS)
    write_csv_atomic(df, out)
    print(f"\nwrote {out}")
    return 0
