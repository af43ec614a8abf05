"""``wsbench study``: a registered study (:mod:`bench.study.studies`) as one run per dataset,
each reported, then a summary across them beside the runs (:mod:`bench.study.summary`).

``shapes`` runs ``shapes-aligned`` (what is where decides the class) and ``shapes-anywhere``
(only what does) under the ``study`` profile, as runs ``study-<dataset>``, and checks their
known answers; ``real`` runs digits, mnist-5k and faces as runs ``real-<dataset>`` and
aggregates over them. The summary goes to ``<results>/study-<name>/``.
"""

from __future__ import annotations

from pathlib import Path

from bench.study.studies import STUDIES, Study

__all__ = ["STUDIES", "Study", "add_parser", "run"]


def add_parser(sub) -> None:
    from bench.run.command import add_backend_argument

    p = sub.add_parser("study", help="run a study (several datasets, one profile) and summarise it: verdicts per "
                                     "dataset, known answers or an aggregate")
    p.add_argument("name", nargs="?", default="shapes",
                   help="the study (default: shapes): "
                        + "; ".join(f"{n}: {s.description}" for n, s in STUDIES.items()))
    p.add_argument("--results-dir", default="results")
    p.add_argument("--seed", type=int, help="seed of the runs (default: the profile's)")
    p.add_argument("--jobs", type=int, help="cells side by side (default: the profile's)")
    p.add_argument("--no-throughput", action="store_true", help="skip the throughput stage of each run (both "
                                                                     "studies skip it anyway)")
    add_backend_argument(p)


def run(args) -> int:
    """Runs (or resumes) every run of the study, reports each, then writes the summary."""
    from bench.report.build import build_report
    from bench.run.command import report_failures
    from bench.run.runner import run_bench
    from bench.store import RunDir
    from bench.study.summary import write_summary

    if args.name not in STUDIES:
        raise ValueError(f"study {args.name!r} is not accepted: use one of {sorted(STUDIES)}.")
    study = STUDIES[args.name]
    changes = {k: v for k, v in (("seed", args.seed), ("jobs", args.jobs), ("backend", args.backend)) if v is not None}
    if args.no_throughput:
        changes["throughput"] = False
    configs = [study.config(dataset, results_dir=args.results_dir, **changes).validated() for dataset in study.datasets]
    run_dirs = []
    for config in configs:  # every run's settings checked before the first one trains
        run_dir = run_bench(config, ["wsbench"] + list(args.argv))
        build_report(run_dir.path)
        run_dirs.append(run_dir.path)
    out = Path(args.results_dir) / f"study-{args.name}"
    summary = write_summary(out, run_dirs, aggregate=study.aggregate)
    for v in summary.known_answers:
        print(f"{v.dataset} ({v.rule}): {'known answer FOUND' if v.passed else 'known answer NOT FOUND'}")
        for check in v.checks:
            print(f"  {check}")
    for line in summary.headline:
        print(line)
    print(f"wrote {out}/summary.md")
    return max([report_failures(RunDir(path)) for path in run_dirs], default=0)
