"""``wsbench study``: the controlled pair (or another study) as one run per dataset, each
reported, then a summary with the known answers.

A study is a profile plus the datasets it runs. ``shapes`` runs ``shapes-aligned`` (what is
where decides the class) and ``shapes-anywhere`` (only what does) under the ``study``
profile, as runs ``study-<dataset>``, and writes ``<results>/study-shapes/summary.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Tuple


@dataclass(frozen=True)
class Study:
    """Runs of one profile on several datasets, summarised together."""

    profile: str
    datasets: Tuple[str, ...]
    description: str


STUDIES = {"shapes": Study("study", ("shapes-aligned", "shapes-anywhere"),
                           "the controlled pair: position-aware families must win on shapes-aligned, conv must hold "
                           "its own on shapes-anywhere")}


def add_parser(sub) -> None:
    from bench.run.command import add_backend_argument

    p = sub.add_parser("study", help="run a study (several datasets, one profile) and summarise its known answers")
    p.add_argument("name", nargs="?", default="shapes", help=f"the study: {', '.join(STUDIES)} (default: shapes)")
    p.add_argument("--results-dir", default="results")
    p.add_argument("--seed", type=int, help="seed of the runs (default: the profile's)")
    p.add_argument("--jobs", type=int, help="cells side by side (default: the profile's)")
    p.add_argument("--no-throughput", action="store_true", help="skip the throughput stage of each run (the study "
                                                                     "profile skips it anyway)")
    add_backend_argument(p)


def run(args) -> int:
    """Runs (or resumes) every run of the study, reports each, then writes the summary."""
    from bench.report.build import build_report
    from bench.run.config import profile
    from bench.run.command import report_failures
    from bench.run.runner import run_bench
    from bench.store import RunDir
    from bench.study.summary import write_summary

    if args.name not in STUDIES:
        raise ValueError(f"study {args.name!r} is not accepted: use one of {sorted(STUDIES)}.")
    study = STUDIES[args.name]
    base = profile(study.profile)
    changes = {k: v for k, v in (("seed", args.seed), ("jobs", args.jobs), ("backend", args.backend)) if v is not None}
    run_dirs = []
    for dataset in study.datasets:
        config = dataclasses.replace(base, dataset=dataset, run_name=f"{study.profile}-{dataset}",
                                     results_dir=args.results_dir, throughput=base.throughput and not args.no_throughput, **changes)
        run_dir = run_bench(config, ["wsbench"] + list(args.argv))
        build_report(run_dir.path)
        run_dirs.append(run_dir.path)
    out = Path(args.results_dir) / f"study-{args.name}"
    verdicts = write_summary(out, run_dirs)
    for v in verdicts:
        print(f"{v.dataset} ({v.rule}): {'known answer FOUND' if v.passed else 'known answer NOT FOUND'}")
        for check in v.checks:
            print(f"  {check}")
    print(f"wrote {out}/summary.md")
    return max([report_failures(RunDir(path)) for path in run_dirs], default=0)
