"""experiments.stats against NumPy references and known Student-t values."""

import math

import numpy as np
import pytest
from keras_seminar.experiments import stats

from keras_seminar.errors import UsageError

# Two-sided 95% (upper 0.975) Student-t quantiles from printed tables (e.g. NIST/SEMATECH 1.3.6.7.2).
T975 = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 5: 2.5706, 9: 2.2622, 10: 2.2281, 30: 2.0423,
        100: 1.9840}


@pytest.mark.parametrize("df,expected", sorted(T975.items()))
def test_t_quantile_matches_tables(df, expected):
    assert stats.t_quantile(df) == pytest.approx(expected, abs=1e-4)


def test_t_quantile_matches_scipy_at_other_levels():
    scipy_stats = pytest.importorskip("scipy.stats")
    for df in (1, 2, 3, 4, 7, 12, 41):
        for confidence in (0.8, 0.9, 0.95, 0.99):
            expected = scipy_stats.t.ppf(0.5 + confidence / 2, df)
            assert stats.t_quantile(df, confidence) == pytest.approx(expected, rel=1e-9)


def test_mean_ci_is_student_t_on_the_sample_std():
    values = [0.981, 0.979, 0.983, 0.980, 0.982]
    est = stats.mean_ci(values)
    s = np.std(values, ddof=1)  # 0.0015811...
    assert est.mean == pytest.approx(0.981) and est.std == pytest.approx(s) and est.n == 5
    assert est.half_width == pytest.approx(2.7764451 * s / math.sqrt(5))
    assert (est.low, est.high) == pytest.approx((0.981 - est.half_width, 0.981 + est.half_width))
    assert str(est) == "0.9810 ± 0.0020 (n=5)"
    assert est.format(2, 100) == "98.10 ± 0.20 (n=5)"
    # Two seeds: the t quantile is 12.7, not the population std's |a - b| / 2.
    assert stats.mean_ci([0.0, 1.0]).half_width == pytest.approx(12.7062 * math.sqrt(0.5) / math.sqrt(2), rel=1e-5)


def test_one_seed_has_no_interval_and_no_claim():
    est = stats.mean_ci([0.97])
    assert not est.has_ci and est.low is None and est.std is None
    assert str(est) == "0.9700 (n=1, no CI)"
    assert "no claim" in stats.claim("a", [0.9], "b", [0.8])
    assert "no claim" in stats.claim("a", [0.9], "b", [0.8], paired=False)


def test_paired_difference_removes_shared_seed_luck():
    a = np.array([0.90, 0.95, 0.92, 0.97, 0.93])
    b = a - np.array([0.010, 0.012, 0.011, 0.009, 0.010])
    d = stats.paired_difference(a, b)
    assert d.mean == pytest.approx(0.0104) and d.low > 0
    # Unpaired, the same numbers overlap: no difference detected.
    assert "no difference detected" in stats.claim("a", a, "b", b, paired=False)
    assert stats.claim("a", a, "b", b).startswith("a is higher than b (paired difference +0.0104")
    assert stats.claim("b", b, "a", a).startswith("b is lower than a")
    with pytest.raises(UsageError, match="same length"):
        stats.paired_difference([1, 2, 3], [1, 2])


def test_claim_says_no_difference_when_the_interval_contains_zero():
    text = stats.claim("2 layers", [0.5, 0.7, 0.6], "1 layer", [0.6, 0.6, 0.6], digits=2, scale=100, unit=" points")
    assert text == ("2 layers vs 1 layer: no difference detected (paired difference +0.00, "
                    "95% CI [-24.84, +24.84] points, n=3 contains 0).")
    assert "do not overlap" in stats.claim("a", [5.0, 5.1, 5.2], "b", [1.0, 1.1, 1.2], paired=False)


def test_bad_input():
    with pytest.raises(UsageError, match="at least one value"):
        stats.mean_ci([])
    with pytest.raises(UsageError, match="finite"):
        stats.mean_ci([1.0, float("nan")])
    with pytest.raises(UsageError, match="df=0"):
        stats.t_quantile(0)
    with pytest.raises(UsageError, match=r"confidence in \(0, 1\)"):
        stats.t_quantile(3, 1.5)


# TOST on d = a - b = [0.1, 0.2, 0.3, 0.0, -0.1]: mean 0.1, s = sqrt(0.1 / 4) = 0.158114, se = s / sqrt(5)
# = 0.0707107; t(0.95, 4) = 2.131847 (tables), so the 90% CI is 0.1 ± 0.150744 = [-0.050744, 0.250744].
# One-sided p-values (scipy.stats.ttest_1samp(d, -m, alternative="greater") / (d, m, "less")):
# m = 0.3: 0.0024063 and 0.0237103; m = 0.2: 0.0066178 and 0.1150998.
TOST_D = np.array([0.1, 0.2, 0.3, 0.0, -0.1])


@pytest.mark.parametrize("margin,p_value,equivalent", [(0.3, 0.0237103, True), (0.2, 0.1150998, False)])
def test_equivalence_is_two_one_sided_t_tests(margin, p_value, equivalent):
    b = np.array([0.02, 0.03, 0.01, 0.05, 0.04])
    test = stats.equivalence(b + TOST_D, b, margin)
    assert test.p_value == pytest.approx(p_value, rel=1e-5) and test.equivalent is equivalent
    assert test.interval.confidence == pytest.approx(0.9) and test.interval.n == 5
    assert (test.interval.low, test.interval.high) == pytest.approx((-0.050744, 0.250744), abs=1e-6)
    assert (0.250744 < margin) is equivalent  # equivalent exactly when the 90% CI lies inside ±margin


def test_equivalence_matches_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for n in (2, 3, 5, 8):
        d = rng.normal(0.1, 0.2, n)
        for margin in (0.05, 0.3, 1.0):
            expected = max(scipy_stats.ttest_1samp(d, -margin, alternative="greater").pvalue,
                           scipy_stats.ttest_1samp(d, margin, alternative="less").pvalue)
            test = stats.equivalence(d, np.zeros(n), margin, alpha=0.1)
            assert test.p_value == pytest.approx(expected, rel=1e-7)
            inside = bool(-margin < test.interval.low and test.interval.high < margin)
            assert test.equivalent == bool(expected < 0.1) == inside


def test_equivalence_one_seed_and_identical_differences():
    one = stats.equivalence([0.5], [0.4], 1.0)
    assert one.p_value is None and not one.equivalent
    assert stats.equivalence([0.75, 0.5], [0.5, 0.25], 0.5).equivalent  # d = 0.25 on every seed: inside ±0.5
    assert not stats.equivalence([0.75, 0.5], [0.5, 0.25], 0.25).equivalent  # on the margin is not inside


def test_equivalence_claim_words_follow_the_test():
    b = np.full(5, 0.02)
    words = dict(digits=2, scale=100, unit=" points")
    assert stats.equivalence_claim("x", b + TOST_D / 100, "y", b, 0.003, **words) == (
        "x matches y: equivalent within ±0.30 points (TOST at the 5% level: paired difference +0.10, "
        "90% CI [-0.05, +0.25] points inside the margin, n=5).")
    assert stats.equivalence_claim("x", b + TOST_D / 100, "y", b, 0.002, **words) == (
        "x vs y: no difference detected (paired difference +0.10, 95% CI [-0.10, +0.30] points, n=5 contains 0); "
        "not shown equivalent within ±0.20 points (TOST: 90% CI [-0.05, +0.25] points is not inside the margin).")
    higher = stats.equivalence_claim("x", b + TOST_D / 100 + 0.005, "y", b, 0.002, **words)
    assert higher.startswith("x is higher than y (paired difference +0.60, 95% CI [+0.40, +0.80] points")
    assert higher.endswith("not shown equivalent within ±0.20 points (TOST: 90% CI [+0.45, +0.75] points is not "
                           "inside the margin).")
    small = stats.equivalence_claim("x", b + (TOST_D / 10 + 0.2) / 100, "y", b, 0.005, **words)
    assert small.startswith("x matches y: equivalent within ±0.50 points") and small.endswith(
        ", though a difference smaller than the margin is detected (95% CI [+0.19, +0.23] points).")
    assert "no claim" in stats.equivalence_claim("x", [0.1], "y", [0.2], 0.5)


@pytest.mark.parametrize("margin", [0, -0.1, float("nan"), float("inf"), True, "0.3"])
def test_equivalence_bad_margin(margin):
    with pytest.raises(UsageError, match="positive finite margin"):
        stats.equivalence([0.1, 0.2], [0.1, 0.1], margin)


def test_equivalence_bad_alpha_and_lengths():
    with pytest.raises(UsageError, match=r"alpha in \(0, 0.5\). Received: alpha=0.5"):
        stats.equivalence([0.1, 0.2], [0.1, 0.1], 0.3, alpha=0.5)
    with pytest.raises(UsageError, match="same length"):
        stats.equivalence([0.1, 0.2], [0.1], 0.3)
