"""Checks of a family's layer alone: it builds, its MAC formula, its output shapes, and finite
outputs and gradients. Each takes a :class:`~bench.check.cases.FamilyUnderCheck` and returns
an :class:`~bench.check.outcome.Outcome`."""

from __future__ import annotations

import math
import numbers
from typing import Any, List, Tuple

import numpy as np

from bench.check.cases import FamilyUnderCheck
from bench.check.outcome import FAIL, OK, Outcome, from_problems, plural


def check_builds(under: FamilyUnderCheck) -> Outcome:
    """Every case's layer builds and runs on a batch; a failure names the options it needs."""
    broken = [b for b in under.built if b.error]
    expected = "every configuration's layer to build and run"
    shapes = f"{plural(len(under.configurations), 'configuration')} × {plural(len(under.cases) // max(len(under.configurations), 1), 'shape')}"
    if not broken:
        return Outcome(under.name, "builds", OK, expected, f"all {len(under.built)} cases did", shapes)
    return Outcome(under.name, "builds", FAIL, expected, broken[0].error,
                   f"{len(broken)} of {len(under.built)} cases raise{culprits(under)}; first: {broken[0].case.describe()}")


def culprits(under: FamilyUnderCheck) -> str:
    """', always with depth_multiplier=1': the options every failing configuration has and no
    fully working one has ('' when no option explains the failures)."""
    failing, working = [], []
    for hp in under.configurations:
        mine = [b for b in under.built if b.case.hp == hp]
        (failing if any(b.error for b in mine) else working).append(hp)
    if not failing:
        return ""
    shared = set.intersection(*[{(k, repr(v)) for k, v in hp.items()} for hp in failing])
    shared -= {(k, repr(v)) for hp in working for k, v in hp.items()}
    if not shared:
        return ""
    return ", always with " + ", ".join(f"{k}={v}" for k, v in sorted(shared))


def is_count(value) -> bool:
    """A non-negative int (numpy ints too; not a bool, not a float)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0


def _pair(value) -> Tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def check_macs(under: FamilyUnderCheck) -> Outcome:
    """``macs`` is a non-negative int, grows with filters, and where the family is a convolution
    (its ``hard_sharing_hp``) counts what a convolution of the built layer's output size costs."""
    problems: List[Tuple[Any, str, str]] = []
    hard = under.family.hard_sharing_hp
    compared = 0
    for b in under.working:
        c = b.case
        try:
            value = under.family.macs(c.input_shape, *c.args, **c.hp)
            wider = under.family.macs(c.input_shape, c.filters + 1, *c.args[1:], **c.hp)
        except Exception as exc:  # noqa: BLE001 - a formula that raises is the finding
            problems.append((c, "a count", f"{type(exc).__name__}: {exc}"))
            continue
        if not is_count(value) or not is_count(wider):
            problems.append((c, "a non-negative int", repr(value if not is_count(value) else wider)))
        elif wider < value:
            problems.append((c, f"at least {value:,} with {c.filters + 1} filters (monotone in filters)", f"{wider:,}"))
        elif isinstance(hard, dict) and c.hp == hard:
            compared += 1
            (kh, kw), (oh, ow) = _pair(c.kernel_size), b.y.shape[1:3]
            conv = oh * ow * kh * kw * c.input_shape[-1] * c.filters
            if not conv <= value <= conv + oh * ow * c.filters:
                problems.append((c, f"{conv:,} to {conv + oh * ow * c.filters:,} (a {oh}×{ow}-output convolution's "
                                    f"count, plus at most one multiply per output for mixing)", f"{value:,}"))
    expected = "non-negative ints, monotone in filters" + (
        ", a convolution's count at hard_sharing_hp" if isinstance(hard, dict) else "")
    return from_problems(under.name, "macs", expected, problems, len(under.working),
                    f"so in {plural(len(under.working), 'case')}"
                    + (f" ({compared} compared with a convolution's count)" if compared else ""))


def conv_rule(n: int, k: int, s: int, padding: str) -> int:
    """TensorFlow's documented output length, written independently of ``layers.shapes``."""
    return math.ceil(n / s) if padding == "same" else math.ceil((n - k + 1) / s)


def check_output_shape(under: FamilyUnderCheck) -> Outcome:
    """The layer's output, its ``compute_output_shape`` and ``Family.output_shape`` all follow
    TensorFlow's convolution rule."""
    problems = []
    for b in under.working:
        c = b.case
        (kh, kw), (sh, sw) = _pair(c.kernel_size), _pair(c.strides)
        rule = (conv_rule(c.input_shape[0], kh, sh, c.padding), conv_rule(c.input_shape[1], kw, sw, c.padding),
                c.filters)
        try:
            found = {"the output": tuple(b.y.shape[1:]),
                     "compute_output_shape": tuple(b.layer.compute_output_shape((None,) + tuple(c.input_shape))[1:]),
                     "Family.output_shape": tuple(under.family.output_shape(c.input_shape, *c.args, **c.hp))}
        except Exception as exc:  # noqa: BLE001
            problems.append((c, f"{rule}", f"{type(exc).__name__}: {exc}"))
            continue
        wrong = {k: v for k, v in found.items() if tuple(int(d) for d in v) != rule}
        if wrong:
            problems.append((c, f"{rule} (TensorFlow's rule)", "; ".join(f"{k} {v}" for k, v in wrong.items())))
    return from_problems(under.name, "output_shape", "the output, compute_output_shape and Family.output_shape to follow "
                    "TensorFlow's rule", problems, len(under.working), f"so in {plural(len(under.working), 'case')}")


def check_finite(under: FamilyUnderCheck) -> Outcome:
    """Forward pass and gradients (for the input and every trainable weight) are finite, and a
    gradient reaches every trainable weight."""
    from bench.check.gradients import outputs_and_gradients

    chosen = under.spread()
    problems = []
    for b in chosen:
        upstream = np.random.default_rng(1).normal(size=b.y.shape).astype("float32")
        try:
            grads = outputs_and_gradients(b.layer, b.x, upstream)
        except Exception as exc:  # noqa: BLE001
            problems.append((b.case, "gradients", f"{type(exc).__name__}: {exc}"))
            continue
        names = ["output", "d/dinput"] + [f"d/d{w.name}" for w in b.layer.trainable_weights]
        missing = [n for n, g in zip(names, grads) if g is None]
        bad = [n for n, g in zip(names, grads) if g is not None and not np.all(np.isfinite(g))]
        if missing or bad:
            problems.append((b.case, "finite values everywhere, a gradient for every trainable weight",
                             "; ".join(filter(None, [f"no gradient reaches {', '.join(missing)}" if missing else "",
                                                     f"non-finite {', '.join(bad)}" if bad else ""]))))
    return from_problems(under.name, "finite", "finite outputs and gradients (input and every trainable weight)", problems,
                    len(chosen), f"so in {plural(len(chosen), 'case')}")
