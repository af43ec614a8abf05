"""The outcome of one check of one family: one line with what was expected and what was found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Tuple

OK, FAIL, SKIP = "ok", "FAIL", "skip"


@dataclass(frozen=True)
class Outcome:
    """What one check found for one family.

    Attributes:
        family: the family's name.
        check: the check's name (see :data:`bench.check.suite.CHECKS`).
        status: ``'ok'``, ``'FAIL'`` or ``'skip'`` (nothing to check here, e.g. no other
            backend installed; never counted as a pass or a failure).
        expected: what the check expected, in words and numbers.
        found: what it found (for a failure, at the first case that differs).
        detail: where (the case), and how many cases were checked or differed.
    """

    family: str
    check: str
    status: str
    expected: str
    found: str
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def line(self) -> str:
        """``family  check  status  expected …; found … (detail)``."""
        text = f"{self.family:<18} {self.check:<12} {self.status:<4}  expected {self.expected}; found {self.found}"
        return text + (f"  [{self.detail}]" if self.detail else "")


def plural(n: int, word: str) -> str:
    """'1 case', '3 cases'."""
    return f"{n} {word}{'' if n == 1 else 's'}"


#: (case, what was expected, what was found) of one case that failed a check.
Problem = Tuple[Any, str, str]


def from_problems(family: str, check: str, expected: str, problems: List[Problem], total: int,
                  found_ok: str) -> Outcome:
    """ok when no case had a problem (and some case was checked); else the first problem, with
    how many of the ``total`` cases had one."""
    if not total:
        return Outcome(family, check, FAIL, expected, "no case to check: no configuration builds", "see builds")
    if not problems:
        return Outcome(family, check, OK, expected, found_ok)
    case, want, got = problems[0]
    return Outcome(family, check, FAIL, want, got,
                   f"{len(problems)} of {plural(total, 'case')} differ; first: {case.describe()}")
