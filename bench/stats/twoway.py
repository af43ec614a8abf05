"""How far a mean over seeds and test images could move: seeds *and* test images as samples.

A run trains each configuration with a few seeds and tests every model on the same fixed
test split. A mean accuracy (or a paired difference between two families) varies with the
seeds drawn *and* with which images happened to land in the test split: with 360 test images
one image is 0.28 points, and a family that systematically misses a handful of images that
conv gets right looks a point worse on this split although another split could show the
opposite. An interval about the dataset, not about these images, must count both.

For an (S seeds × I images) matrix ``x`` (1/0 correct, or the ±1/0 per-image difference of two
families), take the two-way random-effects model x_si = μ + a_s + b_i + e_si (a seed effect,
an image effect, and their interaction noise). The variance of the grand mean when both
seeds and images are drawn anew is σ²_a/S + σ²_b/I + σ²_e/(S·I), estimated without bias by

    var(row means) / S  +  image_var / I,    image_var = var(column means) − noise / S

(ddof = 1; ``noise`` the residual mean square of the two-way layout). Both terms are floored
at what the data cannot rule out. The seed term at what the noise alone would give
(noise / I): with 2 or 3 seeds their variance estimate can come out near zero by chance, but
never truly is. The image term at one image (``image_var`` ≥ 1 / I, so its standard error is
at least 1 / I, one image's worth): image effects are rare and discrete, and where one image
in I is always missed by one family, a drawn split holds none of them about a third of the
time and shows no image effect at all. Without the floor, two families that get the same
images right on every seed (40 faces, all right) have a zero-wide interval and read
*equivalent* on no information, and the tests' rare-image simulation covers the truth 65 %
(40 images) and 85 % (360) of the time instead of 95 %. The interval is Student's t with
Welch–Satterthwaite degrees of freedom: S − 1 when the seeds dominate, many when the images
do. The tests check the coverage on made-up matrices with a known truth (95 % or a little
above).

Without per-image results (a run stored before they were kept) only the seed term is known:
the interval then describes these test images only, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as _sp


@dataclass
class Evidence:
    """A mean over seeds (and images) with its standard error; arrays for batched comparisons.

    Attributes:
        mean: the mean (a fraction: accuracy, or a difference of accuracies).
        se: its standard error (seeds and, when ``images_resampled``, test images).
        n: the number of seeds (the t interval has n − 1 degrees of freedom).
        per_seed: the per-seed values, shape (..., n) (what the sign-flip test flips).
        seed_var: the variance of the per-seed values (ddof = 1).
        image_var: the variance component of the images (var of column means − noise / S),
            floored at one image (1 / images); NaN without per-image results. It does not
            shrink with more seeds: it is what only more test images can reduce.
        noise: the seed × image noise variance (NaN without per-image results).
        images: the number of test images (columns), 0 without per-image results.
        df: the degrees of freedom of the t interval and test.
    """

    mean: np.ndarray
    se: np.ndarray
    n: int
    per_seed: np.ndarray
    seed_var: np.ndarray
    image_var: np.ndarray
    noise: np.ndarray
    images: int
    df: np.ndarray

    @property
    def images_resampled(self) -> bool:
        """Whether the test images were treated as a sample (per-image results were kept)."""
        return self.images > 0

    def se_with(self, n: int):
        """(standard error, degrees of freedom) the same comparison would have with ``n``
        seeds: the seed term shrinks with n, the image term does not."""
        if not self.images_resampled:
            return np.sqrt(self.seed_var / n), np.full(np.shape(self.mean), n - 1.0)
        return _combine(self.seed_var, self.noise, self.image_var, n, self.images)


def _combine(seed_var, noise, image_var, n: int, images: int):
    """(se, df) of the seed term (floored at noise / images, n − 1 df) plus the image term
    (images − 1 df), with Welch–Satterthwaite degrees of freedom."""
    seeds = np.maximum(seed_var, noise / images) / n
    imgs = image_var / images
    total = seeds + imgs
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(total > 0, total ** 2 / (seeds ** 2 / max(n - 1, 1) + imgs ** 2 / (images - 1)), n - 1.0)
    return np.sqrt(total), df


def from_matrix(x: np.ndarray) -> Evidence:
    """Evidence from per-image results, shape (..., S, I): seeds and test images resampled."""
    x = np.asarray(x)
    x = x.astype(np.float32) if x.dtype in (np.bool_, np.int8, np.uint8) else x.astype(float)  # exact for 0/±1
    n, images = x.shape[-2], x.shape[-1]
    rows, cols = x.mean(axis=-1, dtype=float), x.mean(axis=-2, dtype=float)
    mean = rows.mean(axis=-1)
    seed_var = rows.var(axis=-1, ddof=1) if n > 1 else np.full(mean.shape, np.nan)
    col_var = cols.var(axis=-1, ddof=1)
    if n > 1:
        # The residual sum of squares of the two-way layout, by the ANOVA identity (no S × I temporary).
        resid = (np.square(x).sum(axis=(-2, -1)) - images * np.square(rows).sum(axis=-1)
                 - n * np.square(cols).sum(axis=-1) + n * images * np.square(mean))
        noise = np.maximum(resid, 0.0) / ((n - 1) * (images - 1))
        image_var = np.maximum(col_var - noise / n, 1.0 / images)  # one image: see the module docstring
    else:
        noise = image_var = np.full(mean.shape, np.nan)
    se, df = _combine(seed_var, noise, image_var, n, images)
    return Evidence(mean, se, n, rows, seed_var, image_var, noise, images, df)


def from_per_seed(values: np.ndarray) -> Evidence:
    """Evidence from per-seed values alone, shape (..., S): the test images are held fixed."""
    values = np.asarray(values, dtype=float)
    n = values.shape[-1]
    mean = values.mean(axis=-1)
    seed_var = values.var(axis=-1, ddof=1) if n > 1 else np.full(mean.shape, np.nan)
    nan = np.full(mean.shape, np.nan)
    return Evidence(mean, np.sqrt(seed_var / n), n, values, seed_var, nan, nan, 0, np.full(mean.shape, n - 1.0))


def t_interval(ev: Evidence, confidence: float):
    """(low, high): mean ± t(df)·se at ``confidence`` (NaN with fewer than 2 seeds)."""
    if ev.n < 2:
        nan = np.full(np.shape(ev.mean), np.nan)
        return nan, nan
    half = _sp.t.ppf(0.5 + confidence / 2, ev.df) * ev.se
    return ev.mean - half, ev.mean + half


def t_p(ev: Evidence, center=0.0, alternative: str = "two-sided") -> np.ndarray:
    """p-value of the t test that the mean equals ``center`` (``ev.df`` degrees of freedom).

    A zero standard error (every value equal) gives p = 1 when the mean is at the center
    and 0 otherwise; fewer than 2 seeds give p = 1 (no test).
    """
    if ev.n < 2:
        return np.ones(np.shape(ev.mean))
    gap = np.asarray(ev.mean - center, dtype=float)
    se = np.asarray(ev.se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, gap / np.where(se > 0, se, 1.0), np.sign(gap) * np.inf)
    t = np.where((se == 0) & (gap == 0), 0.0, t)
    df = ev.df
    if alternative == "greater":
        return _sp.t.sf(t, df)
    if alternative == "less":
        return _sp.t.cdf(t, df)
    return np.minimum(1.0, 2 * _sp.t.sf(np.abs(t), df))
