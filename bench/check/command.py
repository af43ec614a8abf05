"""``wsbench check FAMILY [FAMILY …] | all``: a family's conformance checks, one line each.

Exit code 0 when every check holds, 1 when one fails, 2 for an unknown family. Nothing
heavy is imported until the command runs (``wsbench --help`` stays fast).
"""

from __future__ import annotations

import time
import warnings
from typing import List


def add_parser(sub) -> None:
    """Declares ``wsbench check``."""
    from bench.backend import BACKENDS

    p = sub.add_parser("check", help="check a layer family, built-in or plugin, before benchmarking it: its "
                                     "param_count and macs formulas against built layers and backbones, output shapes, "
                                     "finite gradients, .keras save/load, get_config, the budget solver, and every "
                                     "installed backend; exit 0 when all hold, 1 when one fails")
    p.add_argument("families", nargs="+", metavar="FAMILY", help="registered family names (see `wsbench families`), "
                                                                 "or all")
    p.add_argument("--checks", help="comma-separated checks to run, e.g. param_count,macs (default: all of builds, "
                                    "param_count, macs, output_shape, finite, save_load, get_config, budget, backends)")
    p.add_argument("--backend", choices=BACKENDS, help="the Keras backend the checks run on here (the other installed "
                                                       "one is compared in a subprocess)")


def family_names(given: List[str]) -> List[str]:
    """The families to check; raises FamilyError (exit code 2) naming an unknown one."""
    from layers import get_family, list_families

    names = list_families() if given == ["all"] else list(dict.fromkeys(given))
    for name in names:
        get_family(name)
    return names


def run(args) -> int:
    """Runs every check on the named families and prints one line per check."""
    from bench.check.suite import CHECKS, check_families

    checks = CHECKS if args.checks is None else tuple(c.strip() for c in args.checks.split(","))
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise ValueError(f"--checks {args.checks!r} is not accepted: {unknown} are unknown; use some of "
                         f"{', '.join(CHECKS)}.")
    names = family_names(args.families)
    # Hard-sharing configurations (one SISWS centroid, LRLC rank 1) take a softmax over a size-1
    # axis on purpose; Keras would warn on every call.
    warnings.filterwarnings("ignore", message="You are using a softmax over axis")
    start = time.perf_counter()
    failed = []
    for outcome in check_families(names, checks=checks):
        print(outcome.line(), flush=True)
        if outcome.failed:
            failed.append(f"{outcome.family} {outcome.check}")
    took = f"{time.perf_counter() - start:.0f} s"
    if failed:
        print(f"wsbench check: {len(failed)} check(s) failed ({', '.join(failed)}) in {took}: fix the family before "
              f"benchmarking it.")
        return 1
    print(f"wsbench check: every check holds for {', '.join(names)} ({took}).")
    return 0
