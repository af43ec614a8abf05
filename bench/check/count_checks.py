"""Checks of what the budget solver relies on: ``param_count`` equals the trainable parameters
of the built layer and of the whole backbone, and the solver lands the family on the default
profile's budgets (or says why not)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Tuple

from bench.check.cases import FamilyUnderCheck
from bench.check.layer_checks import is_count
from bench.check.outcome import FAIL, OK, Outcome, from_problems, plural

#: Backbones counted whole: (input H, W, C), block widths, kernel, head, padding.
BACKBONES = (((8, 8, 1), (3, 7), 3, "gap", "same"), ((16, 16, 3), (2, 5), 5, "flatten", "same"),
             ((9, 9, 2), (4, 6), 3, "gap", "circular"))
#: Configurations whose backbones are counted (the defaults first).
BACKBONE_CONFIGURATIONS = 2
NUM_CLASSES = 7


def trainable_count(weights) -> int:
    import math

    return int(sum(math.prod(w.shape) for w in weights))


def check_param_count(under: FamilyUnderCheck) -> Outcome:
    """``param_count`` equals the built layer's trainable parameters in every case, and
    ``backbone_param_count`` (the formula plus batch norm and classifier) the built backbone's."""
    from bench.run.backbone import backbone_param_count, build_backbone, trainable_parameters

    problems = []
    for b in under.working:
        c = b.case
        built = trainable_count(b.layer.trainable_weights)
        try:
            formula = under.family.param_count(c.input_shape, *c.args, **c.hp)
        except Exception as exc:  # noqa: BLE001 - a formula that raises is the finding
            problems.append((c, f"{built:,} (the built layer's trainable parameters)", f"{type(exc).__name__}: {exc}"))
            continue
        if not is_count(formula) or formula != built:
            problems.append((c, f"{built:,} (the built layer's trainable parameters)",
                             f"{formula!r} (param_count)" if not is_count(formula) else f"{formula:,} (param_count)"))
    configurations = list(dict.fromkeys(repr(b.case.hp) for b in under.working))[:BACKBONE_CONFIGURATIONS]
    hps = [next(b.case.hp for b in under.working if repr(b.case.hp) == key) for key in configurations]
    backbones = 0
    for hp in hps:
        for shape, widths, kernel, head, padding in BACKBONES:
            case = BackboneCase(shape, widths, kernel, head, padding, hp)
            backbones += 1
            try:
                model = build_backbone(under.name, shape, NUM_CLASSES, widths, kernel_size=kernel, head=head,
                                       padding=padding, family_hp=dict(hp))
                built = trainable_parameters(model)
                formula = backbone_param_count(under.name, shape, NUM_CLASSES, widths, kernel_size=kernel, head=head,
                                               padding=padding, family_hp=dict(hp))
            except Exception as exc:  # noqa: BLE001
                problems.append((case, "a backbone built and counted", f"{type(exc).__name__}: {exc}"))
                continue
            if formula != built:
                problems.append((case, f"{built:,} (the built backbone's trainable parameters)",
                                 f"{formula:,} (from param_count)"))
    return from_problems(under.name, "param_count", "the built layer's and backbone's trainable parameters",
                         problems, len(under.working) + backbones,
                         f"equal in all {plural(len(under.working), 'layer')} and {plural(backbones, 'backbone')}")


@dataclass(frozen=True)
class BackboneCase:
    """A backbone counted whole, described like a layer case."""

    shape: Tuple[int, int, int]
    widths: Tuple[int, ...]
    kernel: int
    head: str
    padding: str
    hp: Mapping[str, Any]

    def describe(self) -> str:
        return (f"backbone on {'×'.join(map(str, self.shape))}, widths {'-'.join(map(str, self.widths))}, kernel "
                f"{self.kernel}, {self.head} head, {self.padding} padding, {dict(self.hp)}")


@functools.lru_cache(maxsize=None)
def default_dataset_shape() -> Tuple[str, Tuple[int, int, int], int]:
    """(name, input shape, classes) of the default profile's dataset."""
    from bench.data import load_dataset
    from bench.run.config import PROFILES

    name = PROFILES["default"].dataset
    dataset = load_dataset(name)
    return name, tuple(dataset.input_shape), int(dataset.num_classes)


def check_budget(under: FamilyUnderCheck) -> Outcome:
    """At each of the default profile's budgets on its dataset, the solver finds widths for some
    configuration and kernel size (the defaults first) whose built model has exactly the
    solver's count, or says why no configuration lands."""
    from bench.run.backbone import trainable_parameters
    from bench.run.budget import solve_width
    from bench.run.config import PROFILES
    from bench.run.search_space import KERNEL_SIZES, family_configurations, family_keywords

    profile = PROFILES["default"]
    name, shape, classes = default_dataset_shape()
    found: List[str] = []
    for budget in profile.budgets:
        landed, reason = None, ""
        try:
            for values in family_configurations(under.name):
                hp = family_keywords(under.name, values)
                for kernel in KERNEL_SIZES:
                    solution = solve_width(under.name, shape, classes, budget, tolerance=profile.tolerance,
                                           depth=profile.depth, kernel_size=kernel, head=profile.head,
                                           padding=profile.padding, family_hp=hp)
                    reason = reason or solution.reason
                    model = _built(under.name, shape, classes, solution.widths, kernel, profile, hp) \
                        if solution.feasible else None
                    if model is not None:
                        landed = (solution, kernel, hp, trainable_parameters(model))
                        break
                if landed:
                    break
        except Exception as exc:  # noqa: BLE001 - the solver (the family's formulas) raised
            return Outcome(under.name, "budget", FAIL, f"the solver to land {budget:,} or say why not",
                           f"{type(exc).__name__}: {exc}")
        if landed is None:
            found.append(f"{budget:,} cannot be met: {reason}")
            continue
        solution, kernel, hp, built = landed
        if built != solution.params:
            return Outcome(under.name, "budget", FAIL, f"{solution.params:,} parameters at {budget:,} (the solver's "
                           f"count, widths {solution.label}, kernel {kernel}, {hp})", f"{built:,} in the built model")
        found.append(f"{budget:,} at widths {solution.label}, {solution.params:,} parameters (kernel {kernel}"
                     + (f", {hp})" if hp else ")"))
    expected = (f"the solver to land {name} {'×'.join(map(str, shape))} at "
                f"{' / '.join(f'{b:,}' for b in profile.budgets)} (±{profile.tolerance:.0%}) with the built model's count, "
                f"or say why not")
    return Outcome(under.name, "budget", OK, expected, "; ".join(found))


def _built(family, shape, classes, widths, kernel, profile, hp) -> Optional[Any]:
    """The backbone, or None when the family's layer raises (that configuration cannot be trained)."""
    from bench.run.backbone import build_backbone

    try:
        return build_backbone(family, shape, classes, widths, depth=profile.depth, kernel_size=kernel,
                              head=profile.head, padding=profile.padding, family_hp=hp)
    except Exception:  # noqa: BLE001 - try the next configuration
        return None
