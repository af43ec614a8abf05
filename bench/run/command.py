"""``wsbench bench``: its flags, the configuration they give, and the printed result."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any, Dict, List

from bench.run.config import PADDINGS, PROFILES, BenchConfig, positive_int, profile
from bench.run.distributed import Role

#: Flags that replace the profile's setting of the same name when given.
OVERRIDES = ("dataset", "tuner", "max_trials", "steps", "max_steps", "eval_every", "seeds", "max_seeds", "baseline_seeds",
             "tolerance", "margin", "padding",
             "batch_size", "seed", "run_name", "results_dir", "backend", "threads", "jobs")


def add_parser(sub) -> None:
    """Declares ``wsbench bench`` and ``wsbench baseline`` and their flags."""
    add_run_arguments(sub.add_parser("bench", help="tune every family under equal parameter budgets and evaluate "
                                                   "it, with its plain-recipe baseline"))
    add_run_arguments(sub.add_parser(
        "baseline", help="train every family's plain recipe (every hyperparameter at its default, no tuning) at "
                         "each budget; writes baseline.csv into the same run as `wsbench bench` with these flags"))


def add_run_arguments(p) -> None:
    """The flags of a run. Their help names no registered dataset or tuner: reading a registry
    imports its plugins, and building the parser would then import every installed plugin (a
    tuner plugin imports keras-tuner, hence TensorFlow) for any command, `wsbench datasets`
    included; `wsbench datasets|tuners` list them."""
    default = PROFILES["default"]
    p.add_argument("--profile", default="default",
                   help=f"settings preset, {' or '.join(PROFILES)}; every other flag replaces one of its settings "
                        f"(default: default)")
    p.add_argument("--dataset", help=f"a registered dataset (`wsbench datasets` lists them) or a path to an .npz "
                                     f"(default: {default.dataset})")
    p.add_argument("--families", help="comma-separated family names, or 'all' (see `wsbench families`)")
    p.add_argument("--budgets", help="comma-separated trainable-parameter budgets, e.g. 5000,20000")
    p.add_argument("--tuner", help=f"a registered tuner (`wsbench tuners` lists them; default: {default.tuner})")
    p.add_argument("--max-trials", type=int, help=f"trials per family × budget, all run to the end (default: "
                                                  f"{default.max_trials}, the first the plain recipe)")
    p.add_argument("--steps", type=count_or_auto, help=f"optimizer steps of every model, or 'auto': chosen from the "
                                                      f"data, doubling while any family still gains (default: "
                                                      f"{default.steps})")
    p.add_argument("--max-steps", type=int, help=f"the most steps 'auto' may choose (default: {default.max_steps})")
    p.add_argument("--eval-every", type=int, help="validate every this many steps (default: about 8 validations "
                                                  "per model)")
    p.add_argument("--seeds", type=count_or_auto, help=f"seeds of the final evaluation, or 'auto': 3, then more "
                                                      f"where a verdict against conv is still open (default: "
                                                      f"{default.seeds})")
    p.add_argument("--max-seeds", type=int, help=f"the most seeds 'auto' adds up to (default: {default.max_seeds})")
    p.add_argument("--baseline-seeds", type=int, help=f"seeds of the untuned plain recipe, 0 for none (default: "
                                                      f"{default.baseline_seeds})")
    p.add_argument("--tolerance", type=float, help=f"budget tolerance as a fraction (default {default.tolerance})")
    p.add_argument("--margin", type=float, help=f"equivalence margin in percentage points: a family within ±margin of "
                                                f"conv is 'equivalent' (default {default.margin:g})")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int, help="seed of the split, the tuner and the trials (default 0)")
    p.add_argument("--padding", choices=PADDINGS, help=f"padding of every block: 'same' (zeros) or 'circular' "
                                                      f"(wrap around; conv + GAP cannot see where) (default: "
                                                      f"{default.padding}; the study profile pads circularly)")
    p.add_argument("--run-name", help="results/<run-name>/ (default: <profile>-<dataset>)")
    p.add_argument("--results-dir", help="where runs are kept (default: results)")
    p.add_argument("--no-throughput", action="store_true", help="skip the throughput stage")
    p.add_argument("--jobs", type=int, help="family × budget cells run side by side in this many local processes "
                                            "(default: the profile's; results are the same for any value)")
    add_backend_argument(p)
    p.add_argument("--threads", type=int, help=f"TensorFlow threads per process, 0 for its default (default: "
                                               f"{default.threads}; part of the run: it can change float rounding)")
    g = p.add_argument_group("distributed tuning (keras-tuner chief/worker over gRPC)")
    g.add_argument("--workers", type=int, help="start this many local worker processes over loopback")
    g.add_argument("--role", choices=["chief", "worker"], help="this process's role when running across machines")
    g.add_argument("--oracle", help="HOST:PORT of the chief; search i of the run uses PORT+i")
    g.add_argument("--worker-id", help="a unique id of this worker (workers only)")


def add_backend_argument(p) -> None:
    """``--backend``, read by ``bench.cli`` before Keras is imported (see :mod:`bench.backend`)."""
    from bench.backend import BACKENDS

    p.add_argument("--backend", choices=BACKENDS, help="the Keras backend to train with (default: Keras's own "
                                                       "setting, KERAS_BACKEND, else tensorflow; part of the run)")


def count_or_auto(text: str):
    """'auto' or a whole number (argparse names the value when neither)."""
    if text == "auto":
        return text
    return int(text)


count_or_auto.__name__ = "int or 'auto'"  # argparse: "invalid int or 'auto' value: 'two'"


def split_list(text: str, flag: str) -> tuple:
    """'a,b' → ('a', 'b'); refuses empty items."""
    parts = tuple(p.strip() for p in str(text).split(","))
    if any(not p for p in parts):
        raise ValueError(f"{flag} {text!r} is not accepted: give comma-separated values, e.g. 5000,20000.")
    return parts


def bench_config(args) -> BenchConfig:
    """The profile the flags name, with every setting a flag gives replaced (not yet validated)."""
    changes: Dict[str, Any] = {name: getattr(args, name) for name in OVERRIDES if getattr(args, name) is not None}
    if args.families is not None:
        changes["families"] = () if args.families == "all" else split_list(args.families, "--families")
    if args.budgets is not None:
        changes["budgets"] = split_list(args.budgets, "--budgets")  # BenchConfig.validated checks each
    if args.no_throughput:
        changes["throughput"] = False
    if args.jobs is None and (args.workers or args.role):
        changes["jobs"] = 1  # distributed tuning spreads the trials itself
    return dataclasses.replace(profile(args.profile), profile=args.profile, **changes)


def bench_role(args):
    """The distributed role the flags ask for, checked for consistency."""
    from bench.run.distributed import Role, parse_oracle

    if args.jobs is not None and args.jobs > 1 and (args.workers is not None or args.role):
        raise ValueError(f"--jobs {args.jobs} runs whole cells side by side on this machine: do not combine it with "
                       f"distributed tuning (--workers or --role); use one or the other.")
    if args.workers is not None:
        positive_int(args.workers, "workers")
        if args.role or args.oracle:
            raise ValueError("--workers starts local workers itself: do not combine it with --role or --oracle.")
        return Role()
    if args.role is None:
        if args.oracle or args.worker_id:
            raise ValueError("--oracle and --worker-id need --role chief or --role worker.")
        return Role()
    if not args.oracle:
        raise ValueError(f"--role {args.role} needs --oracle HOST:PORT (the chief's address).")
    host, port = parse_oracle(args.oracle)
    if args.role == "worker":
        if not args.worker_id or "chief" in args.worker_id:
            raise ValueError(f"--worker-id {args.worker_id!r} is not accepted: give each worker a unique id "
                           f"not containing 'chief'.")
        return Role("worker", host, port, args.worker_id)
    return Role("chief", host, port)


def worker_argv(argv: List[str]) -> List[str]:
    """The bench arguments a local worker gets: the chief's, without --workers."""
    out, skip = [], False
    for token in argv:
        if skip:
            skip = False
            continue
        if token == "--workers":
            skip = True
            continue
        if not token.startswith("--workers="):
            out.append(token)
    return out


def run(args) -> int:
    """Runs ``wsbench bench`` or ``wsbench baseline``; returns the exit code."""
    from bench.run.cells import STAGES
    from bench.run.progress import accuracy_table
    from bench.run.runner import run_bench

    role = bench_role(args)
    config = bench_config(args)
    if args.command == "baseline":
        if not config.baseline_seeds:
            raise ValueError("--baseline-seeds 0 leaves the baseline nothing to train: give 1 or more.")
        role, config = Role(), dataclasses.replace(config, throughput=False)  # never distributed: no search
    run_dir = run_bench(config, ["wsbench"] + list(args.argv), role=role, local_workers=args.workers or 0,
                        worker_argv=worker_argv(args.argv),
                        stages=("baseline",) if args.command == "baseline" else STAGES)
    if role.kind == "worker":
        print(f"wsbench: worker {role.worker_id} finished its searches")
        return 0
    for table, title in (("final", "Test accuracy, tuned"), ("baseline", "Test accuracy, plain recipe (untuned)")):
        if run_dir.has(table):
            print(f"\n{title} (mean ± std over seeds, n, actual trainable parameters):")
            print(accuracy_table(run_dir.read(table)).to_string())
    if args.command == "bench" and run_dir.has("final"):
        verdicts = verdict_table(run_dir, config)
        if not verdicts.empty:
            print(f"\nAgainst conv (Δ in percentage points over the seeds both trained; better / worse / equivalent "
                  f"within ±{config.margin:g} / inconclusive, Holm over the run's comparisons):")
            print(verdicts.to_string())
    tables = " ".join(f"{t}.csv" for t in ("trials", "final", "baseline", "throughput") if run_dir.has(t))
    print(f"\nwrote {run_dir.path}/: run.json {tables} models/ tuner/")
    return report_failures(run_dir)


def verdict_table(run_dir, config):
    """The printed verdicts: family × budget of 'Δ verdict (n seeds)'."""
    import pandas as pd

    from bench.run.seeds import stored_cells
    from bench.stats.comparisons import compare_all

    meta = run_dir.read_run()
    # The stored families, resolved: the command line's () means every registered family.
    images, families = int(meta["dataset"]["sizes"]["test"]), list(meta["config"]["families"])
    cap = config.max_seeds if config.seeds == "auto" else None
    compared = compare_all(stored_cells(run_dir, images), families, margin=config.margin / 100, cap=cap)
    cells = {(r.family, r.budget): f"{100 * r.diff:+.1f} {r.verdict} (n={r.n})" for r in compared.itertuples()}
    table = pd.Series(cells, dtype=object).unstack() if cells else pd.DataFrame()
    if not table.empty:
        table.index.name, table.columns.name = "family", "budget"
        table = table.reindex([f for f in families if f in table.index])
    return table


def report_failures(run_dir) -> int:
    """Names every cell in which a layer raised (see :mod:`bench.store.failures`) on stderr;
    returns the exit code: 1 when one did, else 0."""
    from bench.store.failures import failed_cells, failure_lines, run_failures

    failures = run_failures(run_dir)
    if not failures:
        return 0
    cells = failed_cells(failures)
    print(f"\nwsbench: {len(cells)} family × budget cell{'s' if len(cells) > 1 else ''} failed (an error was raised "
          f"while a model was being built or trained, usually by the family's layer; the other cells ran):", file=sys.stderr)
    for line in failure_lines(failures):
        print(f"  {line}", file=sys.stderr)
    families = sorted({family for family, _ in cells})
    print(f"Check the famil{'ies' if len(families) > 1 else 'y'} with `wsbench check {' '.join(families)}`, fix "
          f"{'them' if len(families) > 1 else 'it'}, and rerun the same command: only what failed is retrained.",
          file=sys.stderr)
    return 1
