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
  the same at 2N, and at N in its last fifth; N doubles while, for some family, the rule
  counts a gain *and* that gain's p-value (:func:`improvement_p`) survives Holm's correction
  over every family's two questions.

The flag is a warning about one model and errs toward raising it. The choice of steps is one
decision over many models, so it also asks for evidence corrected for how many it looked at:
the rule alone passes one of six families by noise most of the time (with seed 1 on digits,
the probe doubled 400 → 1,600 on losses falling by 0.011 at 0.995 accuracy), and a choice
that doubles on noise costs the whole run twice the steps while changing no verdict. The
two agree where they look at the same model: the choice stops only where no probed model's
gain is beyond both the split's resolution and chance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np
from scipy import stats

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


def improvement_p(before: Check, after: Check, classes: int) -> float:
    """The one-sided p-value of ``after`` beating ``before`` on the same validation images,
    for the gain :func:`improved` counts (1 when it counts none): the exact McNemar test (a
    binomial test over the images only one of the two got right) when accuracy rose beyond
    the split's resolution, else, on a saturated split, the paired t test of per-image losses."""
    moved, gain, _ = improved(before, after, classes)
    if not moved:
        return 1.0
    if gain > accuracy_tolerance(before.accuracy, len(before.correct)) + 1e-9:
        right_before, right_after = np.asarray(before.correct, bool), np.asarray(after.correct, bool)
        won, lost = int(np.sum(right_after & ~right_before)), int(np.sum(right_before & ~right_after))
        return float(stats.binomtest(won, won + lost, 0.5, alternative="greater").pvalue)
    return float(stats.ttest_rel(before.loss, after.loss, alternative="greater").pvalue)


def best(checks: List[Check]) -> Optional[Check]:
    """The best check by :meth:`Check.rank` (the first of equals), or None."""
    finite = [c for c in checks if math.isfinite(c.mean_loss)]
    return max(finite, key=Check.rank) if finite else None


def _fifths(checks: List[Check], steps: int) -> Tuple[Optional[Check], Optional[Check]]:
    """The best check up to ``(1 − LAST_FRACTION)·steps`` and the best after it."""
    cut = (1 - LAST_FRACTION) * steps
    return best([c for c in checks if c.step <= cut]), best([c for c in checks if c.step > cut])


def last_fifth(checks: List[Check], steps: int, classes: int) -> Tuple[bool, float, float]:
    """(converged, accuracy gain, loss drop) of a model from its validation checks: the best
    check of the last fifth of its steps against the best before. Too few checks on either
    side to compare: converged when none is late, else not."""
    early, late = _fifths(checks, steps)
    if early is None or late is None:
        return late is None, 0.0, 0.0
    moved, gain, drop = improved(early, late, classes)
    return not moved, gain, drop


def last_fifth_p(checks: List[Check], steps: int, classes: int) -> float:
    """:func:`improvement_p` of the last fifth's best check over the best before (1 when
    either side has none: :func:`last_fifth` then has nothing to weigh either)."""
    early, late = _fifths(checks, steps)
    return 1.0 if early is None or late is None else improvement_p(early, late, classes)
