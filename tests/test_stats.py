"""bench.stats against values worked out by hand with plain math, and against the well-kept
libraries it stands in for where it is vectorised (scipy.stats.permutation_test, statsmodels'
Holm)."""

import math

import pytest

import numpy as np
from scipy import stats as sp
from statsmodels.stats.multitest import multipletests

from bench.stats.power import detectable, power_of, seeds_needed
from bench.stats.seeds import summarize
from bench.stats.signflip import sign_flip, smallest_p
from bench.stats.twoway import from_matrix, from_per_seed, t_interval, t_p
from bench.stats.verdicts import decide, holm, paired_tests


# -- independent references ---------------------------------------------------------------
def t_quantile_df2(p: float) -> float:
    """Student's t quantile for 2 degrees of freedom, closed form: (2p−1)/√(2p(1−p))."""
    return (2 * p - 1) / math.sqrt(2 * p * (1 - p))


def t_two_sided_p(t: float, df: float, steps: int = 4000) -> float:
    """2·P(T > |t|) for Student's t with any real df > 0.

    With s = √df·tan θ the tail integral of the density becomes
    C·√df·∫_{θ0}^{π/2} cos^{df−1} θ dθ, smooth on a finite interval: Simpson's rule.
    """
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    lo, hi = math.atan(abs(t) / math.sqrt(df)), math.pi / 2
    h = (hi - lo) / steps
    f = lambda th: math.cos(th) ** (df - 1)  # noqa: E731
    total = f(lo) + f(hi) + sum((4 if i % 2 else 2) * f(lo + i * h) for i in range(1, steps))
    return 2 * c * math.sqrt(df) * total * h / 3


def mean(xs):
    return sum(xs) / len(xs)


def sample_var(xs):
    m = mean(xs)
    return sum((x - m) ** 2 for x in xs) / (len(xs) - 1)


def test_reference_integrator_matches_df2_closed_form():
    # For df = 2 the two-sided p is 1 − |t|/√(2 + t²); checks the helper the other tests use.
    for t in (0.3, 1.0, 2.5, 7.0):
        assert t_two_sided_p(t, 2.0) == pytest.approx(1 - t / math.sqrt(2 + t * t), abs=1e-9)


# -- summarize ------------------------------------------------------------------------------
def test_summarize_three_seeds_by_hand():
    # mean 0.92; deviations ±0.02, 0 → variance (0.0004·2)/2 = 0.0004 → std 0.02.
    out = summarize([0.90, 0.92, 0.94])
    half = t_quantile_df2(0.975) * 0.02 / math.sqrt(3)  # t(0.975, 2) = 4.3027
    assert out["n"] == 3
    assert out["mean"] == pytest.approx(0.92, abs=1e-12)
    assert out["std"] == pytest.approx(0.02, abs=1e-12)
    assert out["ci_low"] == pytest.approx(0.92 - half, abs=1e-9)
    assert out["ci_high"] == pytest.approx(0.92 + half, abs=1e-9)
    assert half == pytest.approx(0.049683, abs=1e-6)


def test_summarize_uneven_sample_by_hand():
    xs = [0.71, 0.80, 0.86]
    m = mean(xs)
    sd = math.sqrt(sample_var(xs))
    half = t_quantile_df2(0.975) * sd / math.sqrt(3)
    out = summarize(xs)
    assert (out["mean"], out["std"]) == (pytest.approx(m), pytest.approx(sd))
    assert (out["ci_low"], out["ci_high"]) == (pytest.approx(m - half), pytest.approx(m + half))


def test_summarize_single_value_has_no_spread():
    out = summarize([0.5])
    assert out["mean"] == 0.5 and out["n"] == 1
    assert all(math.isnan(out[k]) for k in ("std", "ci_low", "ci_high"))


@pytest.mark.parametrize("bad", [[], [0.5, float("nan")], [float("inf")]])
def test_summarize_rejects_bad_samples(bad):
    with pytest.raises(ValueError, match="values"):
        summarize(bad)


# -- the exact sign-flip test ----------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 3, 5, 7])
def test_sign_flip_gives_scipy_permutation_test_p_values(n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        d = rng.integers(-6, 7, size=n).astype(float)
        center = float(rng.choice([0.0, -3.6, 3.6, -1.0]))
        got = sign_flip(d, center)
        for alternative in ("two-sided", "greater", "less"):
            want = sp.permutation_test((d - center,), np.mean, permutation_type="samples", alternative=alternative,
                                       vectorized=True).pvalue
            assert got[alternative] == pytest.approx(want, abs=1e-12), (d, center, alternative)


def test_one_seed_can_never_reject():
    # scipy refuses a sample of one; the two patterns (+d, −d) give these by hand.
    assert {k: float(v) for k, v in sign_flip(np.array([3.0])).items()} == {"greater": 0.5, "less": 1.0,
                                                                             "two-sided": 1.0}


def test_equal_paired_differences_cannot_go_below_the_floor_of_their_seeds():
    """Issue 20's cases: two seeds each 5 images worse read p = 0.5; three seeds each 3 worse, 0.25."""
    assert sign_flip(np.array([-5.0, -5.0]))["two-sided"] == 0.5
    assert sign_flip(np.array([-3.0, -3.0, -3.0]))["two-sided"] == 0.25
    assert (smallest_p(2), smallest_p(3), smallest_p(10), smallest_p(10, "greater")) == (0.5, 0.25, 2 ** -9, 2 ** -10)
    ev = from_per_seed(np.array([-5, -5]) / 360)  # a zero spread: the t test alone would say p = 0
    assert paired_tests(ev, 360, 0.01)["p"] >= 0.5


def test_sign_flip_runs_many_comparisons_at_once():
    d = np.array([[1.0, 2.0, 3.0], [-1.0, 2.0, -3.0]])
    batched = sign_flip(d)["two-sided"]
    assert batched.tolist() == [sign_flip(d[0])["two-sided"], sign_flip(d[1])["two-sided"]]


# -- Holm's correction ---------------------------------------------------------------------------
def test_holm_gives_statsmodels_adjusted_p_values():
    rng = np.random.default_rng(0)
    for _ in range(8):  # statsmodels runs a full garbage collection per call: few, varied calls
        p = rng.random(int(rng.integers(1, 16))) ** 3
        p[rng.random(p.size) < 0.2] = p[0]  # ties
        assert holm(p) == pytest.approx(multipletests(p, method="holm")[1])


def test_holm_leaves_out_comparisons_not_made_and_works_per_run():
    runs = np.array([[0.01, np.nan, 0.04, 0.03], [0.5, 0.001, np.nan, np.nan]])
    got = holm(runs)
    assert np.isnan(got[0, 1]) and np.isnan(got[1, 2:]).all()
    assert got[0, [0, 2, 3]] == pytest.approx(multipletests([0.01, 0.04, 0.03], method="holm")[1])
    assert got[1, :2] == pytest.approx(multipletests([0.5, 0.001], method="holm")[1])


def test_four_verdicts_from_the_two_questions():
    out = decide([0.02, -0.02, 0.001, 0.005, np.nan], [0.001, 0.001, 0.001, 0.5, np.nan],
                 [0.9, 0.9, 0.001, 0.9, np.nan], alpha=0.05)
    # Equivalence wins over a difference smaller than the margin; a comparison not made stays open.
    assert out["verdict"].tolist() == ["better", "worse", "equivalent", "inconclusive", "inconclusive"]


# -- seeds and images ------------------------------------------------------------------------------
def test_two_way_standard_error_by_hand():
    x = np.array([[1, 1, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]], dtype=float)  # 3 seeds × 4 images
    rows, cols = [0.75, 0.5, 1.0], [1.0, 2 / 3, 1 / 3, 1.0]
    ev = from_matrix(x)
    assert ev.mean == pytest.approx(0.75)
    resid = x - np.array(rows)[:, None] - np.array(cols)[None, :] + 0.75
    noise = (resid ** 2).sum() / (2 * 3)
    image_var = max(1 / 4, sample_var(cols) - noise / 3)  # floored at one image of four
    seed_term, image_term = max(sample_var(rows), noise / 4) / 3, image_var / 4
    assert (ev.noise, ev.image_var) == (pytest.approx(noise), pytest.approx(image_var))
    assert ev.se == pytest.approx(math.sqrt(seed_term + image_term))
    df = (seed_term + image_term) ** 2 / (seed_term ** 2 / 2 + image_term ** 2 / 3)  # Welch–Satterthwaite
    assert ev.df == pytest.approx(df)
    low, high = t_interval(ev, 0.95)
    half = sp.t.ppf(0.975, df) * ev.se
    assert (low, high) == (pytest.approx(0.75 - half), pytest.approx(0.75 + half))


def test_the_interval_is_never_narrower_than_one_image():
    # Nothing differs on any seed: the split cannot rule out one image's worth of difference.
    same = from_matrix(np.zeros((3, 50)))
    assert same.image_var == pytest.approx(1 / 50) and same.se == pytest.approx(1 / 50)
    assert from_matrix(np.ones((10, 40))).se == pytest.approx(1 / 40)  # every model gets every image
    one_image_each = np.zeros((2, 50))
    one_image_each[0, 3] = one_image_each[1, 9] = -1  # equal per-seed counts, different images
    ev = from_matrix(one_image_each)
    assert ev.se >= 1 / 50 and from_per_seed(ev.per_seed).se == 0
    # Many images differ in the same direction on every seed: the floor does not bind.
    x = np.zeros((3, 100))
    x[:, :10] = -1
    assert from_matrix(x).image_var > 1 / 100


def test_no_difference_seen_on_a_small_split_is_not_equivalence():
    """Two families that get all 40 test images right on all 10 seeds (real-faces at 10k):
    the paired difference is 0 ± 0, but 40 images cannot show the difference is under a point."""
    ev = from_matrix(np.zeros((10, 40), dtype=np.int8))
    tests = paired_tests(ev, 40, 0.01)
    assert tests["ci_low"] < -0.04 and tests["ci_high"] > 0.04  # about ±2 images of 40
    assert decide([tests["diff"]], [tests["p"]], [tests["p_equiv"]])["verdict"].tolist() == ["inconclusive"]
    # The same zero difference on 3,600 images does show it (and more seeds would not be needed).
    big = paired_tests(from_matrix(np.zeros((10, 3600), dtype=np.int8)), 3600, 0.01)
    assert decide([big["diff"]], [big["p"]], [big["p_equiv"]])["verdict"].tolist() == ["equivalent"]


def test_t_p_values_and_their_edge_cases():
    ev = from_per_seed(np.array([0.02, 0.04, 0.03]))
    t = 0.03 / (0.01 / math.sqrt(3))
    assert t_p(ev) == pytest.approx(t_two_sided_p(t, 2), rel=1e-6)
    assert t_p(from_per_seed(np.array([0.0, 0.0]))) == 1.0
    assert t_p(from_per_seed(np.array([0.01, 0.01]))) == 0.0
    assert t_p(from_per_seed(np.array([0.01]))) == 1.0


def test_made_up_predictions_with_a_known_difference_are_covered_by_the_seeds_and_images_interval():
    """A population of images, some hard for one family only: the true difference over the
    population is known (here 1 point). Each simulated run draws a test split from it and 5
    seeds; the 95 % interval over seeds and images covers the truth in ~95 % of runs (a
    little more: it errs wide), the interval that holds the images fixed far less often."""
    rng = np.random.default_rng(11)
    runs, seeds, images = 2000, 5, 400
    kind = rng.random((runs, 1, images))
    family_err = np.where(kind < 0.03, 0.8, np.where(kind < 0.05, 0.1, 0.01))
    reference_err = np.where(kind < 0.03, 0.1, np.where(kind < 0.05, 0.8, 0.01))
    truth = -(0.03 * (0.8 - 0.1) + 0.02 * (0.1 - 0.8))  # reference − family error over the population
    assert truth == pytest.approx(-0.007)
    d = ((rng.random((runs, seeds, images)) >= family_err).astype(np.int8)
         - (rng.random((runs, seeds, images)) >= reference_err).astype(np.int8))
    covered = lambda ev: np.mean((t_interval(ev, 0.95)[0] <= truth) & (truth <= t_interval(ev, 0.95)[1]))  # noqa: E731
    assert 0.94 <= covered(from_matrix(d)) <= 0.98
    assert covered(from_per_seed(d.mean(axis=-1))) < 0.8


@pytest.mark.parametrize("images", [40, 360])
def test_rare_images_one_family_always_misses_are_covered(images):
    """Image effects are rare and discrete: in a population where one image in ``images`` is
    always missed by the family and always got right by the reference (truth: −1 image's
    worth), a drawn split holds none of them about a third of the time and then looks like no
    difference at all. The one-image floor keeps the 95 % interval at ≥ 93 % coverage; without
    it the coverage is 85 % (360 images) and 65 % (40), measured on this simulation."""
    rng = np.random.default_rng(images)
    runs, seeds = 2000, 10
    rare = rng.random((runs, 1, images)) < 1 / images
    noise = rng.random((runs, seeds, images))  # plus seed-by-image noise, 0.3 % each way
    d = np.where(rare, -1, np.where(noise < 0.003, -1, np.where(noise > 0.997, 1, 0))).astype(np.int8)
    low, high = t_interval(from_matrix(d), 0.95)
    assert np.mean((low <= -1 / images) & (-1 / images <= high)) >= 0.93


# -- the smallest detectable difference -----------------------------------------------------------
def test_the_detectable_difference_has_the_power_it_claims():
    ev = from_per_seed(np.array([0.004, -0.003, 0.001, 0.006, -0.002, 0.0]))
    level = 0.05 / 15
    for n in (10, 20):
        d = detectable(ev, level, n)
        assert power_of(d, float(ev.se_with(n)[0]), n - 1, level) == pytest.approx(0.8, abs=1e-6)
        # By simulation: normal per-seed differences with that mean and the observed spread.
        rng = np.random.default_rng(n)
        draws = rng.normal(d, math.sqrt(float(ev.seed_var)), size=(20000, n))
        t = draws.mean(axis=1) / (draws.std(axis=1, ddof=1) / math.sqrt(n))
        assert np.mean(np.abs(t) > sp.t.ppf(1 - level / 2, n - 1)) == pytest.approx(0.8, abs=0.03)
    assert detectable(ev, level, 20) < detectable(ev, level, 10)


def test_too_few_seeds_detect_nothing_and_too_few_images_cap_what_seeds_can_do():
    ev = from_per_seed(np.array([0.004, -0.003, 0.001]))
    assert detectable(ev, 0.05 / 15, 5) == math.inf  # 2**-4 > 0.0033: no test can get there
    assert seeds_needed(ev, 0.01, 0.05 / 15) >= 10
    x = np.zeros((3, 100))
    x[:, :3] = -1  # the same 3 of 100 images every seed: an image effect no seed count removes
    wide = from_matrix(x)
    assert seeds_needed(wide, 0.001, 0.05 / 15) is None
