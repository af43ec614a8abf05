"""The `wsbench` command line: bench, families, report, throughput, speed, train."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional

from bench.run.profiles import PROFILES, check_profile

# TensorFlow's C++ start-up chatter (CUDA probing, graph attribute notices) is not actionable here.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


class CliError(Exception):
    """Bad command-line input; printed as 'wsbench: error: …' with exit code 2."""


def _budgets(text: str):
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or any(not p for p in parts):
        raise CliError(f"--budgets {text!r} is not accepted: give comma-separated positive integers, e.g. 5000,20000.")
    out = []
    for p in parts:
        try:
            value = float(p)
        except ValueError:
            raise CliError(f"budget {p!r} is not a number: give comma-separated positive integers, "
                           f"e.g. 5000,20000.") from None
        if not 0 < value < float("inf") or value != int(value):
            raise CliError(f"budget {p!r} is not accepted: give positive integers, e.g. 5000,20000.")
        out.append(int(value))
    return tuple(out)


def add_bench_parser(sub) -> None:
    p = sub.add_parser("bench", help="tune every family under equal parameter budgets and evaluate it")
    p.add_argument("--profile", default="default", help=f"settings preset: {', '.join(PROFILES)} (default: default)")
    p.add_argument("--dataset", help="digits, faces, shapes-aligned, shapes-anywhere, mnist, fashion_mnist, "
                                     "cifar10, or a path to an .npz")
    p.add_argument("--families", help="comma-separated family names, or 'all'")
    p.add_argument("--budgets", help="comma-separated trainable-parameter budgets, e.g. 5000,20000")
    p.add_argument("--tuner", help="random, bayesian or hyperband")
    p.add_argument("--max-trials", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--seeds", type=int, help="seeds of the final evaluation")
    p.add_argument("--tolerance", type=float, help="budget tolerance as a fraction (default 0.05)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int, default=0, help="seed of the split, the tuner and the trials")
    p.add_argument("--run-name", help="results/<run-name>/ (default: <profile>-<dataset>)")
    p.add_argument("--results-dir", default="results")
    p.add_argument("--no-throughput", action="store_true", help="skip the throughput stage")
    p.add_argument("--jobs", type=int, help="family × budget cells run side by side in this many local processes "
                                            "(default: the profile's; results are the same for any value)")
    g = p.add_argument_group("distributed tuning (keras-tuner chief/worker over gRPC)")
    g.add_argument("--workers", type=int, help="start this many local worker processes over loopback")
    g.add_argument("--role", choices=["chief", "worker"], help="this process's role when running across machines")
    g.add_argument("--oracle", help="HOST:PORT of the chief; search i of the run uses PORT+i")
    g.add_argument("--worker-id", help="a unique id of this worker (workers only)")


def bench_config(args):
    from bench.run.runner import BenchConfig

    preset = check_profile(args.profile)
    pick = lambda name: getattr(args, name) if getattr(args, name) is not None else preset.get(name)  # noqa: E731
    families = pick("families")
    if isinstance(families, str):
        families = tuple(f.strip() for f in families.split(",")) if families != "all" else ()
    budgets = _budgets(args.budgets) if args.budgets is not None else tuple(preset["budgets"])
    kwargs = dict(dataset=pick("dataset"), families=tuple(families), budgets=budgets, tuner=pick("tuner"),
                  max_trials=pick("max_trials"), epochs=pick("epochs"), seeds=pick("seeds"),
                  batch_size=pick("batch_size"), patience=preset["patience"], seed=args.seed, profile=args.profile,
                  run_name=args.run_name or "", results_dir=args.results_dir, throughput=not args.no_throughput,
                  throughput_batch=preset["throughput_batch"], throughput_repeats=preset["throughput_repeats"],
                  # Distributed tuning spreads the trials itself; the profile's --jobs then does not apply.
                  jobs=args.jobs if args.jobs is not None else 1 if args.workers or args.role else preset["jobs"])
    if args.tolerance is not None:
        kwargs["tolerance"] = args.tolerance
    return BenchConfig(**kwargs)


def bench_role(args):
    """The distributed role the flags ask for, checked for consistency."""
    from bench.run.distributed import Role, parse_oracle
    from bench.run.runner import positive_int

    if args.jobs is not None and args.jobs > 1 and (args.workers is not None or args.role):
        raise CliError(f"--jobs {args.jobs} runs whole cells side by side on this machine: do not combine it with "
                       f"distributed tuning (--workers or --role); use one or the other.")
    if args.workers is not None:
        positive_int(args.workers, "workers")
        if args.role or args.oracle:
            raise CliError("--workers starts local workers itself: do not combine it with --role or --oracle.")
        return Role()
    if args.role is None:
        if args.oracle or args.worker_id:
            raise CliError("--oracle and --worker-id need --role chief or --role worker.")
        return Role()
    if not args.oracle:
        raise CliError(f"--role {args.role} needs --oracle HOST:PORT (the chief's address).")
    host, port = parse_oracle(args.oracle)
    if args.role == "worker":
        if not args.worker_id or "chief" in args.worker_id:
            raise CliError(f"--worker-id {args.worker_id!r} is not accepted: give each worker a unique id "
                           f"not containing 'chief'.")
        return Role("worker", host, port, args.worker_id)
    return Role("chief", host, port)


def worker_argv(argv):
    """The bench arguments a local worker gets: the chief's, without --workers."""
    out, skip = [], False
    for token in argv:
        if skip:
            skip = False
            continue
        if token == "--workers":
            skip = True
            continue
        if token.startswith("--workers="):
            continue
        out.append(token)
    return out


def cmd_bench(args) -> int:
    from bench.run.evaluation import accuracy_table
    from bench.run.runner import run_bench

    role = bench_role(args)
    run = run_bench(bench_config(args), ["wsbench"] + list(args.argv), role=role, local_workers=args.workers or 0,
                    worker_argv=worker_argv(args.argv))
    if role.kind == "worker":
        print(f"wsbench: worker {role.worker_id} finished its searches")
        return 0
    final = run.read("final")
    print("\nTest accuracy (mean ± std over seeds, n, actual trainable parameters):")
    print(accuracy_table(final).to_string())
    print(f"\nwrote {run.path}/: run.json trials.csv final.csv"
          + (" throughput.csv" if (run.path / "throughput.csv").exists() else "") + " models/ tuner/")
    return 0


def cmd_families(args) -> int:
    from layers import get_family, list_families, plugin_errors

    for name in list_families():
        fam = get_family(name)
        print(f"{name:20s} {fam.source:28s} {fam.description}")
    for name, error in plugin_errors().items():
        print(f"{name:20s} {'plugin (failed)':28s} {error}")
    return 0


def cmd_report(args) -> int:
    from bench.report.build import build_report
    from bench.store import RunDir, resolve_run

    run_dir = resolve_run(Path(args.results_dir), args.run)
    holder = RunDir(run_dir).holder()
    if holder is not None:
        print(f"wsbench: note: run {run_dir.name!r} is in progress (pid {holder.get('pid', '?')} on host "
              f"{holder.get('host', '?')}): the report shows what it has recorded so far.", file=sys.stderr)
    path = build_report(run_dir, in_progress=holder)
    print(f"wrote {path}")
    return 0


def cmd_throughput(args) -> int:
    from bench.run.throughput import measure_run
    from bench.store import RunDir, resolve_run

    run_dir = resolve_run(Path(args.results_dir), args.run)
    # Measuring next to a running bench would time both badly, and both write throughput.csv.
    with RunDir(run_dir).writer(" ".join(["wsbench"] + list(args.argv)),
                                advice="let it finish (it measures throughput itself), or stop it (kill {pid}); "
                                       "then rerun this command."):
        frame = measure_run(run_dir, batch=args.batch, repeats=args.repeats)
    print(frame.to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wsbench", description="Does relaxing convolution's hard weight sharing "
                                     "pay off at the same parameter count and tuning effort?")
    sub = parser.add_subparsers(dest="command", required=True)
    add_bench_parser(sub)
    sub.add_parser("families", help="list the registered layer families and where they come from")
    p = sub.add_parser("report", help="build report.md and figures from a stored run (never trains)")
    p.add_argument("run", nargs="?", help="run directory or name (default: the newest run)")
    p.add_argument("--results-dir", default="results")
    p = sub.add_parser("throughput", help="(re)measure the throughput of a run's saved models")
    p.add_argument("run", help="run directory or name")
    p.add_argument("--results-dir", default="results")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--repeats", type=int, default=5)
    for module in ("bench.speed.command", "bench.train.command"):
        try:
            __import__(module, fromlist=["add_parser"]).add_parser(sub)
        except ImportError as exc:
            if exc.name != module:
                raise
    return parser


COMMANDS = {"bench": cmd_bench, "families": cmd_families, "report": cmd_report, "throughput": cmd_throughput}


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the `wsbench` console script; returns the exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        if args.command in COMMANDS:
            return COMMANDS[args.command](args)
        module = __import__(f"bench.{args.command}.command", fromlist=["run"])
        return module.run(args)
    except (CliError, ValueError) as exc:
        # ValueError covers every validation error (FamilyError, DatasetError, ResultsError, ...).
        print(f"wsbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wsbench: interrupted; rerun the same command to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
