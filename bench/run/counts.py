"""A family's parameter-count formula against the models it builds.

The budget solver sizes every model from the families' ``param_count`` formulas
(:mod:`bench.run.budget`); a formula that disagrees with its layer would make the comparison
unfair without a word (a formula returning half the true count gives models of ~1.8× the
budget). So a run compares the two before it trains anything (:func:`check_run_formulas`,
at the run's own shapes) and again for every model it builds (:func:`refuse_miscounted`),
and refuses the run on a mismatch, naming what to run: ``wsbench check FAMILY``.
"""

from __future__ import annotations

from itertools import islice
from typing import Any, Dict, Optional, Sequence

from bench.run.backbone import build_backbone, trainable_parameters
from bench.run.budget import solve_width
from bench.run.search_space import KERNEL_SIZES, family_configurations, family_keywords

#: Configurations of a family tried, in order (its defaults first), until one builds, for the
#: check before a run; a family none of whose tried configurations builds is left to fail
#: (and be recorded as failed) in its cells.
CONFIGURATIONS_TRIED = 8


class ParamCountMismatch(ValueError):
    """A family's ``param_count`` disagrees with the trainable parameters of a model it built."""


def mismatch_message(family: str, where: str, formula: int, built: int) -> str:
    """The message refusing a run: the family, the shape, both counts and what to run."""
    return (f"family {family!r}: its param_count formula gives {formula:,} trainable parameters for {where}, but "
            f"the model built there has {built:,} ({built - formula:+,}): the budget solver would size its models "
            f"wrongly, so the run is refused. Run `wsbench check {family}` to see every case that differs.")


def describe_model(input_shape: Sequence[int], widths: Sequence[int], kernel_size: int, padding: str, head: str,
                   family_hp: Optional[Dict[str, Any]]) -> str:
    """A model of the backbone in words: the input shape, widths, kernel, padding, head and options."""
    shape = "×".join(str(int(v)) for v in input_shape)
    return (f"the {shape} input with block widths {'-'.join(str(w) for w in widths)}, kernel {kernel_size}, "
            f"{padding} padding, {head} head and {dict(family_hp or {})}")


def refuse_miscounted(model, family: str, formula: int, where: str) -> None:
    """Raises ParamCountMismatch when ``model`` does not have ``formula`` trainable parameters."""
    built = trainable_parameters(model)
    if built != int(formula):
        raise ParamCountMismatch(mismatch_message(family, where, int(formula), built))


def check_run_formulas(config, input_shape: Sequence[int], num_classes: int) -> None:
    """Builds, for every family and budget of ``config`` and each kernel size, the model the
    budget solver picks for the family's plain recipe, and compares its trainable parameters
    with the formula's count.

    A configuration whose layer raises is skipped for the next one (up to
    :data:`CONFIGURATIONS_TRIED`): a layer that raises is a failed trial of the run, not a
    wrong formula.

    Raises:
        ParamCountMismatch: naming the family, the model, both counts and ``wsbench check``.
    """
    import keras

    for family in config.families:
        for kernel_size in KERNEL_SIZES:
            for values in islice(family_configurations(family), CONFIGURATIONS_TRIED):
                if _check_configuration(config, family, input_shape, num_classes, kernel_size,
                                        family_keywords(family, values)):
                    break
    # The run's own models start from a clean slate: no layer names taken, no random draws made.
    keras.backend.clear_session()


def _check_configuration(config, family, input_shape, num_classes, kernel_size, family_hp) -> bool:
    """Checks one configuration at every budget; False when its layer raises while being built."""
    for budget in config.budgets:
        solution = solve_width(family, input_shape, num_classes, budget, tolerance=config.tolerance,
                               depth=config.depth, kernel_size=kernel_size, head=config.head, padding=config.padding,
                               family_hp=family_hp)
        try:
            model = build_backbone(family, input_shape, num_classes, solution.widths, depth=config.depth,
                                   kernel_size=kernel_size, head=config.head, padding=config.padding,
                                   family_hp=family_hp)
        except Exception:  # noqa: BLE001 - any error of a family's layer; the run records it as a failed trial
            return False
        refuse_miscounted(model, family, solution.params,
                          describe_model(input_shape, solution.widths, kernel_size, config.padding, config.head,
                                         family_hp))
    return True
