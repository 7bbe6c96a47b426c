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
