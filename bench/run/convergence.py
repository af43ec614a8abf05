"""Would more steps change the result? One rule, used by every model and by ``--steps auto``.

A *check* is one validation of a model: which validation images it got right and the loss
on each. ``improved(before, after)`` says whether ``after`` is better than ``before`` beyond
what the validation split resolves:

- **accuracy** rose by more than one standard error of ``before``'s accuracy, and by at
  least one image;
- or, when accuracy cannot show such a gain because it is already at the top (``before``
  is within one standard error, at least one image, of every image right: a saturated split,
  like digits' at 1.000), **the loss** fell by more than two standard errors of the paired
  per-image differences (a one-sided test at about 2.5 %), and by at least what one image
  going from a uniform guess to certainty gives, ln(classes) / images. A saturated split
  would otherwise pass any model. Two, not one: a mean loss is carried by the few images a
  model is unsure of, so its drops are heavy-tailed; with one standard error a longer schedule
  would pass as an improvement one time in six on loss alone, while the accuracy it stands
  in for does not move (digits: every family's plain recipe at 400 and 800 steps has the
  same test accuracy within two images).

The rule answers "would gain from more steps" in two places:

- every model (:func:`last_fifth`): the best check of the last fifth of its steps against
  the best before it; a model whose validation result still improved there beyond noise
  *has not converged*;
- ``--steps auto`` (:mod:`bench.run.steps`): each family's plain recipe at N steps against
  the same at 2N; N doubles while any family improved, or is still improving at N.

So the choice stops only where the per-model rule passes on every probed model and doubling
changes no result beyond noise: the two agree on the models both look at.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

#: The share of the steps at the end in which a model must no longer be improving.
LAST_FRACTION = 0.2
#: Standard errors of the paired per-image loss differences a saturated model's loss must fall by.
LOSS_SE = 2.0


@dataclass
class Check:
    """One validation of a model: the step, and per validation image whether it was right
    and its loss."""

    step: int
    correct: np.ndarray
    loss: np.ndarray

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.correct))

    @property
    def mean_loss(self) -> float:
        return float(np.mean(self.loss))

    def rank(self) -> Tuple[float, float]:
        """Best-checkpoint order: higher accuracy, ties to the lower loss."""
        loss = self.mean_loss
        return (self.accuracy, -loss if math.isfinite(loss) else -math.inf)


def accuracy_tolerance(accuracy: float, images: int) -> float:
    """One standard error of an accuracy on ``images`` images, and never less than one image."""
    return max(1.0 / images, math.sqrt(max(accuracy * (1 - accuracy), 0.0) / images))


def improved(before: Check, after: Check, classes: int) -> Tuple[bool, float, float]:
    """(whether ``after`` beats ``before`` beyond what the validation split resolves,
    accuracy gain, loss drop); see the module docstring."""
    images = len(before.correct)
    tolerance = accuracy_tolerance(before.accuracy, images)
    gain = after.accuracy - before.accuracy
    drop = before.mean_loss - after.mean_loss
    if gain > tolerance + 1e-9:
        return True, gain, drop
    if before.accuracy + tolerance >= 1 - 1e-9 and np.all(np.isfinite(after.loss)) and np.all(np.isfinite(before.loss)):
        diff = after.loss - before.loss
        noise = float(np.std(diff, ddof=1) / math.sqrt(images)) if images > 1 else 0.0
        if drop > max(LOSS_SE * noise, math.log(classes) / images) + 1e-12:
            return True, gain, drop
    return False, gain, drop


def best(checks: List[Check]) -> Optional[Check]:
    """The best check by :meth:`Check.rank` (the first of equals), or None."""
    finite = [c for c in checks if math.isfinite(c.mean_loss)]
    return max(finite, key=Check.rank) if finite else None


def last_fifth(checks: List[Check], steps: int, classes: int) -> Tuple[bool, float, float]:
    """(converged, accuracy gain, loss drop) of a model from its validation checks: the best
    check after ``(1 − LAST_FRACTION)·steps`` against the best before. Too few checks on
    either side to compare: converged when none is late, else not."""
    cut = (1 - LAST_FRACTION) * steps
    early, late = best([c for c in checks if c.step <= cut]), best([c for c in checks if c.step > cut])
    if early is None or late is None:
        return late is None, 0.0, 0.0
    moved, gain, drop = improved(early, late, classes)
    return not moved, gain, drop
