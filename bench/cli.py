"""The `wsbench` command line: one sub-command per stage, and listings of the registries.

Every sub-command module has ``add_parser(subparsers)`` and ``run(args) -> exit code``.
Bad input of any kind is a ``ValueError`` naming the value: printed as
``wsbench: error: …`` with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import textwrap
from pathlib import Path
from typing import List, Optional

# TensorFlow's C++ start-up chatter (CUDA probing, graph attribute notices) is not actionable here.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

#: Sub-command → its module, in the order `wsbench --help` lists them.
COMMAND_MODULES = {"bench": "bench.run.command", "baseline": "bench.run.command", "study": "bench.study.command",
                   "speed": "bench.speed.command", "train": "bench.train.command", "check": "bench.check.command"}


def _registries():
    """name → (registry, description of an entry) of every plugin kind, for `wsbench <kind>`."""
    from bench.data import DATASETS
    from bench.report.figures import FIGURES
    from bench.run.tuners import TUNERS
    from layers.registry import FAMILIES

    return {"families": (FAMILIES, lambda e: e.description), "datasets": (DATASETS, lambda e: e.description),
            "tuners": (TUNERS, lambda e: e.description),
            "figures": (FIGURES, lambda e: " ".join((e.__doc__ or "").strip().split("\n\n")[0].split()))}


def listing(rows, width: Optional[int]) -> str:
    """(name, source, description) rows as aligned columns, descriptions wrapped to ``width``
    characters under their own column (None: not wrapped, one line per entry)."""
    rows = list(rows)
    if not rows:
        return ""
    name_w, source_w = (max(len(str(r[i])) for r in rows) for i in (0, 1))
    indent = name_w + source_w + 4
    lines = []
    for name, source, text in rows:
        parts = (textwrap.wrap(str(text), max(width - indent, 30)) if width else [str(text)]) or [""]
        lines.append(f"{name:<{name_w}}  {source:<{source_w}}  {parts[0]}".rstrip())
        lines += [" " * indent + part for part in parts[1:]]
    return "\n".join(lines)


def cmd_list(args) -> int:
    """`wsbench families|datasets|tuners|figures`: every registered entry, where it comes from."""
    from layers.plugins import describe

    registry, describe_entry = _registries()[args.command]
    # Wrapped to a terminal's width; into a pipe one line per entry, whole, for grep and scripts.
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    print(listing(describe(registry, describe_entry), width))
    return 0


def cmd_report(args) -> int:
    from bench.api import report
    from bench.store import RunDir, resolve_run

    run_dir = resolve_run(Path(args.results_dir), args.run)
    holder = RunDir(run_dir).holder()
    if holder is not None:
        print(f"wsbench: note: run {run_dir.name!r} is in progress (pid {holder.get('pid', '?')} on host "
              f"{holder.get('host', '?')}): the report shows what it has recorded so far.", file=sys.stderr)
    path = report(run_dir, feature=args.feature)
    print(f"wrote {path}")
    return 0


def cmd_compare(args) -> int:
    """`wsbench compare`: the runs side by side, printed and written to --out; nothing is
    written on bad input."""
    from bench.api import compare
    from bench.store import check_writable
    from bench.store.atomic import write_text_atomic

    comparison = compare(*args.runs, results_dir=args.results_dir)
    out = Path(args.out) if args.out else Path(args.results_dir) / (
        "compare-" + "-vs-".join(Path(label).name for label in comparison.labels) + ".md")
    if out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a directory: give the path of the Markdown file to write.")
    check_writable(out.parent)
    text = comparison.markdown()
    print(text)
    write_text_atomic(out, text + "\n")
    print(f"wrote {out}")
    return 0


def cmd_throughput(args) -> int:
    from bench.run.throughput import measure_run
    from bench.store import RunDir, resolve_run

    run_dir = resolve_run(Path(args.results_dir), args.run)
    # Measuring next to a running bench would time both badly, and both write throughput.csv.
    with RunDir(run_dir).writer(" ".join(["wsbench"] + list(args.argv)),
                                advice="let it finish (it measures throughput itself), or stop it (kill {pid}); "
                                       "then rerun this command."):
        frame = measure_run(run_dir, batch=args.batch, repeats=args.repeats,
                            progress=lambda line: print(f"wsbench: {line}", flush=True))
    print(frame.to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wsbench", description="Does relaxing convolution's hard weight sharing "
                                     "pay off at the same parameter count and tuning effort?")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in dict.fromkeys(COMMAND_MODULES.values()):
        importlib.import_module(module).add_parser(sub)
    for kind in _registries():
        sub.add_parser(kind, help=f"list the registered {kind} and where they come from")
    p = sub.add_parser("report", help="build report.md, figures and summary.csv from a stored run (never trains)")
    p.add_argument("run", nargs="?", help="run directory or name (default: the newest run)")
    p.add_argument("--results-dir", default="results")
    p.add_argument("--feature", type=int, default=0, metavar="N",
                   help="output channel whose centroid map figure 5 draws (default 0; with per-feature centroids "
                        "each channel has its own)")
    p = sub.add_parser("compare", help="two or more stored runs side by side: on one dataset each cell's means, "
                                       "intervals and verdicts and the families' rank correlation; across datasets "
                                       "the verdicts per dataset")
    p.add_argument("runs", nargs="*", metavar="RUN", help="run directories or names under --results-dir (two or more)")
    p.add_argument("--results-dir", default="results", help="where run names are looked up (default: results)")
    p.add_argument("--out", help="the Markdown file to write (default: <results-dir>/compare-<run>-vs-<run>.md)")
    p = sub.add_parser("throughput", help="(re)measure the throughput of a run's saved models")
    p.add_argument("run", help="run directory or name")
    p.add_argument("--results-dir", default="results")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--repeats", type=int, default=5, help="interleaved timing rounds (default 5)")
    return parser


def dispatch(args) -> int:
    """Runs the parsed sub-command."""
    if args.command in _registries():
        return cmd_list(args)
    local = {"report": cmd_report, "compare": cmd_compare, "throughput": cmd_throughput}
    if args.command in local:
        return local[args.command](args)
    return importlib.import_module(COMMAND_MODULES[args.command]).run(args)


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the `wsbench` console script; returns the exit code."""
    from bench import backend

    argv = list(sys.argv[1:] if argv is None else argv)
    try:  # before anything imports Keras: it picks its backend once (without --backend, Keras's own setting)
        if backend.requested(argv) is not None:
            backend.choose(backend.requested(argv))
    except backend.BackendError as exc:
        print(f"wsbench: error: {exc}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    args.argv = argv
    if args.command not in _registries():  # the listings need no TensorFlow; every other command does
        backend.import_tensorflow()
    try:
        return dispatch(args)
    except ValueError as exc:
        # Every validation error is a ValueError (FamilyError, DatasetError, ResultsError, ...).
        print(f"wsbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wsbench: interrupted; rerun the same command to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
