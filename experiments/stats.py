"""Seed statistics for the experiment reports: mean with a Student-t interval, paired differences.

Every number an experiment reports is the mean over n seeds with a 95% confidence interval
`mean ± t(0.975, n-1) * s / sqrt(n)`, s the sample standard deviation (ddof=1). Two arms that
share seeds (same data split, shuffles and initial weights) compare by the per-seed difference,
whose interval is narrower than either arm's when the seeds' luck is shared. `claim` turns the
intervals into words, so a report never says "better" where the interval allows "no difference".
"No difference detected" is not "the same": `equivalence` (TOST) and `equivalence_claim` say
"equivalent within ±margin" only where the paired difference is shown to lie inside the margin.

It lives beside the experiments (not in `keras_seminar`) because only the reports built on top
of the package use it; it needs NumPy alone, so its numbers are the same on every machine.

Example:
    >>> est = mean_ci([0.981, 0.979, 0.983, 0.980, 0.982])
    >>> str(est)
    '0.9810 ± 0.0020 (n=5)'
    >>> claim("2 layers", [0.982, 0.983, 0.984], "1 layer", [0.980, 0.981, 0.980])

Reference: Student (1908); any statistics text, e.g. Wasserman, "All of Statistics", ch. 6-10;
TOST: Schuirmann (1987), J. Pharmacokinet. Biopharm. 15(6), 657-680.
"""

import dataclasses
import math

import numpy as np

from keras_seminar.errors import UsageError

__all__ = ["claim", "CONFIDENCE", "Equivalence", "equivalence", "equivalence_claim", "Estimate",
           "mean_ci", "paired_difference", "percent", "t_quantile"]

CONFIDENCE = 0.95


def _t_two_sided_mass(t, df):
    """P(|T| <= t) for Student's t with integer `df` (Abramowitz & Stegun 26.7.3-4, exact)."""
    theta = math.atan(t / math.sqrt(df))
    s, c = math.sin(theta), math.cos(theta)
    if df == 1:
        return 2.0 * theta / math.pi
    term, total = 1.0, 1.0
    if df % 2:  # odd: (2/pi) (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ...))
        for k in range(1, (df - 3) // 2 + 1):
            term *= (2 * k) / (2 * k + 1) * c * c
            total += term
        return 2.0 / math.pi * (theta + s * c * total)
    for k in range(1, (df - 2) // 2 + 1):  # even: sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ...)
        term *= (2 * k - 1) / (2 * k) * c * c
        total += term
    return s * total


def t_quantile(df, confidence=CONFIDENCE):
    """The two-sided Student-t critical value: P(|T| <= t) = confidence, T with `df` degrees.

    Exact for integer df (bisection on the closed-form CDF), e.g. t_quantile(4) = 2.7764.
    """
    if isinstance(df, bool) or not isinstance(df, (int, np.integer)) or df < 1:
        raise UsageError(f"Expected df to be a positive integer. Received: df={df!r}")
    if not 0 < confidence < 1:
        raise UsageError(f"Expected confidence in (0, 1). Received: confidence={confidence!r}")
    low, high = 0.0, 1.0
    while _t_two_sided_mass(high, int(df)) < confidence:
        high *= 2.0
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if _t_two_sided_mass(mid, int(df)) < confidence else (low, mid)
        if high - low < 1e-12:
            break
    return (low + high) / 2


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A mean over n seeds and its confidence interval (`half_width` None when n = 1)."""

    mean: float
    n: int
    std: float | None
    half_width: float | None
    confidence: float = CONFIDENCE

    @property
    def low(self):
        return None if self.half_width is None else self.mean - self.half_width

    @property
    def high(self):
        return None if self.half_width is None else self.mean + self.half_width

    @property
    def has_ci(self):
        return self.half_width is not None

    def format(self, digits=4, scale=1.0):
        """`0.9810 ± 0.0020 (n=5)`; `0.9810 (n=1, no CI)` for one seed. `scale=100` for %."""
        mean = f"{self.mean * scale:.{digits}f}"
        if not self.has_ci:
            return f"{mean} (n={self.n}, no CI)"
        return f"{mean} ± {self.half_width * scale:.{digits}f} (n={self.n})"

    def __str__(self):
        return self.format()

    def to_dict(self):
        return {"mean": self.mean, "n": self.n, "std": self.std, "half_width": self.half_width,
                "low": self.low, "high": self.high, "confidence": self.confidence}


def _values(values, name="values"):
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0:
        raise UsageError(f"Expected at least one value. Received: {name}=[]")
    if not np.all(np.isfinite(values)):
        raise UsageError(f"Expected finite {name}. Received: {values.tolist()}")
    return values


def mean_ci(values, confidence=CONFIDENCE):
    """Mean of per-seed `values` with a Student-t interval (sample std, ddof=1).

    One value gives an `Estimate` without an interval (`has_ci` False), never a fake "± 0".
    """
    values = _values(values)
    n = values.size
    if n == 1:
        return Estimate(float(values[0]), 1, None, None, confidence)
    std = float(np.std(values, ddof=1))
    return Estimate(float(values.mean()), n, std, t_quantile(n - 1, confidence) * std / math.sqrt(n),
                    confidence)


def percent(values, digits=2):
    """`mean_ci(values)` of fractions as percent text: "97.12 ± 0.35 (n=5)"."""
    return mean_ci(values).format(digits, 100)


def paired_difference(a, b, confidence=CONFIDENCE):
    """`mean_ci(a - b)` for two arms measured on the same seeds (a[i] and b[i]: seed i)."""
    a, b = _values(a, "a"), _values(b, "b")
    if a.shape != b.shape:
        raise UsageError(f"Expected paired values of the same length. Received: {a.size} and {b.size}")
    return mean_ci(a - b, confidence)


def claim(name_a, a, name_b, b, paired=True, digits=4, scale=1.0, unit=""):
    """One sentence that says only what the 95% intervals support.

    Paired (same seeds): a difference is claimed when the interval of the per-seed difference
    excludes 0. Unpaired: only when the two arms' intervals do not overlap (conservative).
    With one seed no claim is made.
    """
    fmt = lambda v: f"{v * scale:+.{digits}f}"  # noqa: E731
    if paired:
        d = paired_difference(a, b)
        if not d.has_ci:
            return f"{name_a} - {name_b} = {fmt(d.mean)}{unit} on one seed: no interval, no claim."
        where = f"paired difference {fmt(d.mean)}, 95% CI [{fmt(d.low)}, {fmt(d.high)}]{unit}, n={d.n}"
        if d.low > 0:
            return f"{name_a} is higher than {name_b} ({where})."
        if d.high < 0:
            return f"{name_a} is lower than {name_b} ({where})."
        return f"{name_a} vs {name_b}: no difference detected ({where} contains 0)."
    ea, eb = mean_ci(a), mean_ci(b)
    if not (ea.has_ci and eb.has_ci):
        return f"{name_a} vs {name_b}: one seed, no interval, no claim."
    where = (f"{ea.format(digits, scale)} vs {eb.format(digits, scale)}")
    if ea.low > eb.high:
        return f"{name_a} is higher than {name_b} ({where}; the intervals do not overlap)."
    if ea.high < eb.low:
        return f"{name_a} is lower than {name_b} ({where}; the intervals do not overlap)."
    return f"{name_a} vs {name_b}: no difference detected ({where}; the intervals overlap)."



def _t_upper_tail(t, df):
    """P(T > t) for Student's t with integer `df`."""
    tail = (1.0 - _t_two_sided_mass(abs(t), df)) / 2.0
    return tail if t >= 0 else 1.0 - tail


@dataclasses.dataclass(frozen=True)
class Equivalence:
    """The result of `equivalence`: TOST of a paired difference against ±`margin`.

    `interval` is the mean difference with its (1 - 2 alpha) interval (90% at alpha = 0.05);
    `p_value` the larger of the two one-sided p-values (None with one seed); `equivalent` is
    True exactly when `p_value < alpha`, i.e. when `interval` lies inside (-margin, +margin).
    """

    interval: Estimate
    margin: float
    p_value: float | None
    alpha: float = 0.05

    @property
    def equivalent(self):
        return self.p_value is not None and self.p_value < self.alpha


def equivalence(a, b, margin, alpha=0.05):
    """Two one-sided paired t-tests (TOST) of `a - b` within ±`margin` at level `alpha`.

    H0: mean(a - b) <= -margin or >= +margin; rejecting both (each one-sided test at `alpha`)
    shows equivalence at the 1 - alpha level, the same as the (1 - 2 alpha) Student-t interval
    of the paired difference lying inside (-margin, +margin). `a[i]`, `b[i]`: seed i of two arms.

    Example:
        >>> equivalence([2.1, 2.2, 2.3, 2.0, 1.9], [2.0] * 5, margin=0.3).equivalent
        True
    """
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 < margin < math.inf:
        raise UsageError(f"Expected a positive finite margin. Received: margin={margin!r}")
    if not 0 < alpha < 0.5:
        raise UsageError(f"Expected alpha in (0, 0.5). Received: alpha={alpha!r}")
    d = paired_difference(a, b, confidence=1.0 - 2.0 * alpha)
    if not d.has_ci:
        return Equivalence(d, float(margin), None, alpha)
    if d.std == 0:  # every seed the same difference: inside the margin or not, no doubt either way
        return Equivalence(d, float(margin), 0.0 if abs(d.mean) < margin else 1.0, alpha)
    se = d.std / math.sqrt(d.n)
    p_low = _t_upper_tail((d.mean + margin) / se, d.n - 1)  # H0: mean <= -margin
    p_high = _t_upper_tail((margin - d.mean) / se, d.n - 1)  # H0: mean >= +margin
    return Equivalence(d, float(margin), max(p_low, p_high), alpha)


def equivalence_claim(name_a, a, name_b, b, margin, digits=4, scale=1.0, unit="", alpha=0.05):
    """One sentence: "`name_a` matches `name_b`: equivalent within ±margin" only where TOST
    (`equivalence`) shows it; otherwise `claim`'s words ("no difference detected" when the 95%
    interval contains 0, else the direction) and that equivalence within the margin is not shown.

    Example:
        >>> equivalence_claim("pruned L1", a, "pruned L2", b, margin=0.003, digits=2, scale=100,
        ...                   unit=" points")
    """
    test = equivalence(a, b, margin, alpha)
    fmt = lambda v: f"{v * scale:+.{digits}f}"  # noqa: E731
    within = f"±{margin * scale:.{digits}f}{unit}"
    if not test.interval.has_ci:
        return claim(name_a, a, name_b, b, digits=digits, scale=scale, unit=unit)
    d, level = test.interval, f"{100 * (1 - 2 * alpha):g}% CI"
    where = f"{level} [{fmt(d.low)}, {fmt(d.high)}]{unit}"
    if test.equivalent:
        wide = paired_difference(a, b)
        detected = ("" if wide.low <= 0 <= wide.high else ", though a difference smaller than the margin is "
                    f"detected (95% CI [{fmt(wide.low)}, {fmt(wide.high)}]{unit})")
        return (f"{name_a} matches {name_b}: equivalent within {within} (TOST at the {100 * alpha:g}% level: "
                f"paired difference {fmt(d.mean)}, {where} inside the margin, n={d.n}){detected}.")
    said = claim(name_a, a, name_b, b, digits=digits, scale=scale, unit=unit)
    return f"{said[:-1]}; not shown equivalent within {within} (TOST: {where} is not inside the margin)."
