"""``wsbench compare RUN_A RUN_B [...]``: stored runs side by side, as Markdown on stdout and
in a file (see :mod:`bench.compare.tables`)."""

from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("compare", help="two or more stored runs side by side: on one dataset, each cell's means, "
                                       "intervals and verdicts and the families' rank correlation; across "
                                       "datasets, the verdicts per dataset")
    p.add_argument("runs", nargs="*", metavar="RUN", help="run directories or names under --results-dir (two or more)")
    p.add_argument("--results-dir", default="results", help="where run names are looked up (default: results)")
    p.add_argument("--out", help="the Markdown file to write (default: <results-dir>/compare-<run>-vs-<run>….md)")


def default_out(results_dir: Path, labels) -> Path:
    """``<results-dir>/compare-<run>-vs-<run>.md`` (run names only, whatever their paths)."""
    return Path(results_dir) / ("compare-" + "-vs-".join(Path(label).name for label in labels) + ".md")


def run(args) -> int:
    """Compares the runs, prints the Markdown and writes it; nothing is written on bad input."""
    from bench.api import compare
    from bench.store import check_writable
    from bench.store.atomic import write_text_atomic

    comparison = compare(*args.runs, results_dir=args.results_dir)
    out = Path(args.out) if args.out else default_out(Path(args.results_dir), comparison.labels)
    if out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a directory: give the path of the Markdown file to write.")
    check_writable(out.parent)
    text = comparison.markdown()
    print(text)
    write_text_atomic(out, text + "\n")
    print(f"wrote {out}")
    return 0
