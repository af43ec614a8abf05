"""bench.report.stats against values worked out by hand with plain math (no scipy in the references)."""

import math

import pytest

from bench.report.stats import summarize, welch


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


# -- welch ------------------------------------------------------------------------------------
def test_welch_equal_variance_pairs_by_hand():
    # n = 2 each, equal variances → Welch df = 2, where p = 1 − |t|/√(2 + t²).
    a, b = [0.90, 0.94], [0.80, 0.84]
    diff = 0.92 - 0.82
    se = math.sqrt(sample_var(a) / 2 + sample_var(b) / 2)  # √(0.0008/2 + 0.0008/2) = 0.02828
    t = diff / se
    out = welch(a, b)
    assert out["diff"] == pytest.approx(diff, abs=1e-12)
    assert out["p_value"] == pytest.approx(1 - t / math.sqrt(2 + t * t), abs=1e-9)


def test_welch_unequal_variances_by_hand():
    a, b = [0.91, 0.93, 0.92, 0.95], [0.80, 0.88, 0.84]
    va, vb = sample_var(a) / len(a), sample_var(b) / len(b)
    t = (mean(a) - mean(b)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))  # Welch–Satterthwaite
    out = welch(a, b)
    assert out["diff"] == pytest.approx(mean(a) - mean(b))
    assert out["p_value"] == pytest.approx(t_two_sided_p(t, df), rel=1e-6)
    assert 0 < out["p_value"] < 0.05
    # Symmetric in sign: swapping the samples flips diff, not p.
    swapped = welch(b, a)
    assert swapped["diff"] == pytest.approx(-out["diff"])
    assert swapped["p_value"] == pytest.approx(out["p_value"])


def test_welch_undefined_cases_give_nan():
    assert math.isnan(welch([0.9], [0.8, 0.85])["p_value"])
    assert math.isnan(welch([0.9, 0.9], [0.8, 0.8])["p_value"])
    assert welch([0.9], [0.8, 0.85])["diff"] == pytest.approx(0.9 - 0.825)


def test_welch_rejects_empty_sample():
    with pytest.raises(ValueError, match="b is empty"):
        welch([0.9, 0.8], [])
