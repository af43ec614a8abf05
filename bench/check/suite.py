"""Every check, in the order ``wsbench check`` prints them, run on one or more families."""

from __future__ import annotations

from typing import Callable, Dict, Iterable, Iterator, Mapping, Sequence

from bench.check.cases import SAMPLES, FamilyUnderCheck
from bench.check.count_checks import check_budget, check_param_count
from bench.check.layer_checks import check_builds, check_finite, check_macs, check_output_shape
from bench.check.outcome import FAIL, Outcome
from bench.check.serialization_checks import check_get_config, check_save_load

#: check name → what it checks of one family. ``backends`` (below) runs once for all families.
FAMILY_CHECKS: Dict[str, Callable[[FamilyUnderCheck], Outcome]] = {
    "builds": check_builds, "param_count": check_param_count, "macs": check_macs,
    "output_shape": check_output_shape, "finite": check_finite, "save_load": check_save_load,
    "get_config": check_get_config, "budget": check_budget}
CHECKS = tuple(FAMILY_CHECKS) + ("backends",)


def run_check(under: FamilyUnderCheck, check: str) -> Outcome:
    """One check of one family; a check that itself raises is a failure, named, never a traceback."""
    try:
        return FAMILY_CHECKS[check](under)
    except Exception as exc:  # noqa: BLE001 - whatever the family does is the finding
        return Outcome(under.name, check, FAIL, "the check to run", f"{type(exc).__name__}: {exc}")


def check_families(names: Sequence[str], *, checks: Iterable[str] = CHECKS, samples: int = SAMPLES,
                   extra: Mapping[str, Iterable[Mapping]] = None) -> Iterator[Outcome]:
    """Runs ``checks`` on every family in ``names``, yielding each outcome as soon as it is known:
    family by family, then the cross-backend outcomes (their subprocess runs meanwhile).

    Args:
        names: registered family names.
        checks: names from :data:`CHECKS`.
        samples: configurations drawn from each family's search space (besides its defaults).
        extra: family → further configurations (layer keyword arguments) to check.
    """
    checks = list(checks)
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise ValueError(f"checks {unknown} are not accepted: use some of {list(CHECKS)}.")
    unders = [FamilyUnderCheck(name, samples, (extra or {}).get(name, ())) for name in names]
    cross = None
    if "backends" in checks:
        from bench.check.backends import CrossBackend

        cross = CrossBackend(unders)  # its subprocess works while the checks below run here
    for under in unders:
        for check in checks:
            if check != "backends":
                yield run_check(under, check)
    if cross is not None:
        yield from cross.outcomes().values()
