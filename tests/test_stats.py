"""bench.report.stats against values worked out by hand with plain math (no scipy in the references)."""

import math

import pytest

from bench.report.stats import bootstrap_best, paired, summarize


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


# -- paired ------------------------------------------------------------------------------------
def test_paired_difference_by_hand():
    # Differences 0.02, 0.04, 0.03 over three common seeds: mean 0.03, sd 0.01, t = 0.03/(0.01/√3).
    a = {"0": 0.92, "1": 0.94, "2": 0.93, "9": 0.5}  # seed 9 has no partner: left out
    b = {"0": 0.90, "1": 0.90, "2": 0.90}
    out = paired(a, b)
    t = 0.03 / (0.01 / math.sqrt(3))
    half = t_quantile_df2(0.975) * 0.01 / math.sqrt(3)
    assert out["n"] == 3 and out["diff"] == pytest.approx(0.03)
    assert out["ci_low"] == pytest.approx(0.03 - half) and out["ci_high"] == pytest.approx(0.03 + half)
    assert out["p_value"] == pytest.approx(t_two_sided_p(t, 2), rel=1e-6)


def test_paired_cancels_what_the_seeds_share():
    """Two families that move together seed by seed differ significantly even though their
    spreads overlap (what an unpaired test would see)."""
    conv = {"0": 0.80, "1": 0.90, "2": 0.85}
    other = {s: v + 0.02 + d for (s, v), d in zip(conv.items(), (0.001, -0.001, 0.0))}
    assert paired(other, conv)["p_value"] < 0.01


def test_paired_undefined_cases_give_nan():
    assert math.isnan(paired({"0": 0.9}, {"0": 0.8})["p_value"])  # one pair
    assert math.isnan(paired({"0": 0.9, "1": 0.8}, {"0": 0.8, "1": 0.7})["p_value"])  # equal differences
    assert paired({}, {"0": 0.8})["n"] == 0


# -- bootstrap -----------------------------------------------------------------------------------
def test_bootstrap_of_the_best_trial_by_hand():
    # Two trials, 0.5 and 0.9: a resample of two misses 0.9 with probability 1/4, so the best is
    # 0.9 three times in four: median 0.9, 5th percentile 0.5.
    out = bootstrap_best([0.5, 0.9], draws=20000, seed=1)
    assert out["median"] == 0.9 and out["low"] == 0.5 and out["high"] == 0.9
    assert out["std"] == pytest.approx(0.4 * math.sqrt(0.25 * 0.75), rel=0.02)
    assert bootstrap_best([0.7, 0.7, 0.7])["std"] == pytest.approx(0, abs=1e-12)
    assert math.isnan(bootstrap_best([])["median"])
