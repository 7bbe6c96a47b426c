"""Mutual-information estimators of the information plane, in bits, pure NumPy.

Public through `keras_seminar.callbacks.information_plane`, so they can be checked on synthetic
data with known mutual information, and so experiments can print the random control beside
every estimate.
"""

import numpy as np

from keras_seminar._validators import check_bool, check_choice, check_float, check_int
from keras_seminar.errors import UsageError

ESTIMATORS = ("binning", "kde")


def entropy(symbols):
    """Shannon entropy in bits of the empirical distribution of `symbols` (rows of a 2-D array
    are one symbol each)."""
    symbols = np.asarray(symbols)
    if symbols.size == 0:
        return 0.0
    _, counts = np.unique(symbols, axis=0, return_counts=True)
    p = counts / counts.sum()
    return float(-np.sum(p * np.log2(p)))


def check_bin_range(bin_range):
    """None, or `(lo, hi)` as two finite floats with lo < hi."""
    if bin_range is None:
        return None
    try:
        lo, hi = (float(v) for v in bin_range)
    except (TypeError, ValueError):
        lo = hi = float("nan")
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise UsageError(f"Expected bin_range to be None or (lo, hi) with finite lo < hi. "
                         f"Received: bin_range={bin_range!r}")
    return lo, hi


def discretize(t, bins=30, value_range=None):
    """Bin indices (N, D) in [0, bins) of activations `t`, with `bins` equal bins over
    `value_range` (default: the activations' own [min, max]); values outside the range fall in
    the first or last bin. A constant `t` falls in bin 0."""
    t = np.asarray(t)
    t = t.reshape(len(t), -1)
    lo, hi = (t.min(), t.max()) if value_range is None else value_range
    if not hi > lo:
        return np.zeros(t.shape, dtype=np.int32)
    # floor((t - lo) / width), in place and in t's own float type: the same bins as
    # np.digitize over linspace(lo, hi, bins + 1) (up to rounding at the edges), ~10x faster on
    # wide conv layers, which is most of this monitor's cost.
    if t.dtype != np.float32:
        t = t.astype(np.float64)
    scaled = np.clip(t, lo, hi)
    scaled -= t.dtype.type(lo)
    scaled *= t.dtype.type(bins / (hi - lo))
    binned = scaled.astype(np.int32)
    return np.minimum(binned, bins - 1, out=binned)


def _row_symbols(binned):
    """One integer id per distinct row: rows viewed as opaque byte strings, which np.unique
    sorts much faster than `np.unique(axis=0)` compares them column by column."""
    # Bin indices fit in the smallest unsigned type: rows 4x shorter than int32 sort faster.
    small = np.uint8 if binned.max(initial=0) < 256 else np.uint16 if binned.max() < 65536 else binned.dtype
    binned = np.ascontiguousarray(binned, dtype=small)
    rows = binned.view(np.dtype((np.void, binned.dtype.itemsize * binned.shape[1]))).reshape(-1)
    return np.unique(rows, return_inverse=True)[1].reshape(-1)


def labels(y):
    """Class indices (N,) from labels (N,) or one-hot (N, classes)."""
    y = np.asarray(y)
    return np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(-1)


def binned_mutual_information(t, y, bins=30, value_range=None):
    """`(I(X;T), I(T;Y))` in bits with the binning estimator of Shwartz-Ziv & Tishby (2017).

    Each sample's binned activation vector is one symbol of T. Every input is taken to be
    unique and T is a deterministic function of X, so I(X;T) = H(T); I(T;Y) = H(T) - H(T|Y).

    Args:
        t: activations (N, ...) of one layer.
        y: labels (N,) or one-hot (N, classes).
        bins: number of equal-width bins.
        value_range: (lo, hi) of the bins, e.g. (-1, 1) for tanh as in the paper; default the
            activations' own range (re-ranged on every call).
    """
    t_ids = _row_symbols(discretize(t, bins, value_range))
    y = labels(y)
    h_t = entropy(t_ids)
    h_t_given_y = sum(np.mean(y == c) * entropy(t_ids[y == c]) for c in np.unique(y))
    return h_t, max(h_t - h_t_given_y, 0.0)


def _kernel_sums(t, y, noise_variance, block=2048):
    """For each sample i: sum_j k_ij over all j, (N,), and over the j of each class, (N, classes),
    with k_ij = exp(-|t_i - t_j|^2 / (2 var)); rows in blocks of `block`, so memory stays
    block x N. k_ii = 1, so no sum underflows to 0 (no log-sum-exp shift needed)."""
    sq, onehot = np.sum(t * t, axis=1), (y[:, None] == np.unique(y)[None, :]).astype(t.dtype)
    total, per_class = np.empty(len(t)), np.empty((len(t), onehot.shape[1]))
    for start in range(0, len(t), block):
        rows = slice(start, start + block)
        k = t[rows] @ t.T
        k *= 2.0
        k -= sq[rows, None]
        k -= sq[None, :]  # -|t_i - t_j|^2
        np.minimum(k, 0.0, out=k)
        k *= 1.0 / (2.0 * noise_variance)
        np.exp(k, out=k)
        total[rows], per_class[rows] = k.sum(axis=1), k @ onehot
    return total, per_class


def kde_mutual_information(t, y, noise_variance=1e-3):
    """`(I(X;T), I(T;Y))` in bits: the pairwise-distance (KL) upper bound of Kolchinsky & Tracey
    (2017), with T = h(X) + N(0, noise_variance I) and X uniform over the N samples, as in Saxe
    et al. (2018, Appendix B.1, Eqs. 7-10; they take noise_variance = 0.1):

        I(X;T) <= -1/N sum_i log 1/N sum_j exp(-|h_i - h_j|^2 / (2 var)),
        I(T;Y) <= that - sum_c p_c (-1/N_c sum_{i in c} log 1/N_c sum_{j in c} exp(...)).

    (H(T) is bounded by the mixture's pairwise-KL bound; H(T|X) is the noise's entropy, and the
    Gaussian constants cancel.) Well-separated clusters give log2(clusters) bits; identical
    points 0. Cost: N^2 kernel values per call.
    """
    check_float("noise_variance", noise_variance, low=0, low_open=True)
    t = np.asarray(t, dtype=np.float64).reshape(len(t), -1)
    t = t - t.mean(axis=0)  # distances unchanged; smaller norms, less cancellation in |a|^2 + |b|^2 - 2ab
    # float32 kernels (2x faster) where their rounding of the exponent stays below ~1e-4 nats
    small = np.max(np.sum(t * t, axis=1), initial=0.0) / (2.0 * noise_variance) < 1e3
    y = labels(y)
    total, per_class = _kernel_sums(t.astype(np.float32) if small else t, y, noise_variance)
    h = -np.mean(np.log(total / len(t)))  # H_upper(T) up to the Gaussian constant, nats
    classes, index, counts = np.unique(y, return_inverse=True, return_counts=True)
    own = np.log(per_class[np.arange(len(t)), index] / counts[index])  # log mean over i's own class
    h_given_y = -np.sum(np.bincount(index, weights=own)) / len(t)  # sum_c p_c * (-mean_{i in c} own_i)
    return float(h / np.log(2)), float(max(h - h_given_y, 0.0) / np.log(2))


def estimate_information(t, y, estimator="binning", bins=30, bin_range=None, noise_variance=1e-3):
    """`(I(X;T), I(T;Y))` in bits with `estimator` ("binning" or "kde") and its settings."""
    if check_choice("estimator", estimator, ESTIMATORS) == "kde":
        return kde_mutual_information(t, y, noise_variance)
    return binned_mutual_information(t, y, check_int("bins", bins, 2), check_bin_range(bin_range))


def is_saturated(ixt, ity, y, tol=1e-3):
    """True when an estimate sits at its ceiling: I(X;T) = log2(N) and I(T;Y) = H(Y), i.e. every
    probe sample has its own code (own bin). Random activations give the same numbers, so a
    saturated estimate says nothing about the layer. (When the probe is every input of a finite
    task once, as the 4,096 inputs of Shwartz-Ziv & Tishby, log2(N) = H(X) is exact: the layer is
    invertible on the data, which is still all the estimate can say.)"""
    y = labels(y)
    return bool(ixt >= np.log2(len(y)) - tol and ity >= entropy(y) - tol)


def saturation_advice(estimator, n, width):
    """What to change when `is_saturated`: the message the monitors warn with."""
    if estimator == "kde":
        what = f"the noise Gaussians around the {n} probe samples barely overlap"
        fix = "a larger noise_variance, more probe samples, or a narrower layer"
    else:
        what = f"every one of the {n} probe samples has its own bin"
        fix = ("fewer bins or a fixed bin_range (e.g. bins=30, bin_range=(-1, 1) for tanh), more "
               "probe samples, a narrower layer, or estimator='kde'")
    wide = (f" A layer of {width} units has more codes than {n} samples fill at any bin count "
            "(and KDE's Gaussians do not overlap there either): measure the narrow layers instead, "
            "e.g. layers=['fc1'] with bins=3.") if width > 4 * n else ""
    return (f"{what} in a layer of width {width}: I(X;T) = log2({n}) and I(T;Y) = H(Y), the same as "
            f"random activations give. Use {fix}.{wide}")


def random_control(t, y, seed=0, shuffle_labels=True, **estimator_options):
    """The estimate on random activations with `t`'s shape, with the labels `y` permuted
    (`shuffle_labels=True`) or the real labels (`False`).

    The random activations are Gaussian with each unit's mean and standard deviation on the
    probe, so they fill the same bins; they carry nothing about X or Y. An estimate that is no
    different from its control measures the estimator, not the layer: with the real labels the
    control shows how much I(T;Y) a layer that ignores its input is credited with (the
    estimator's bias at this sample size), with permuted labels also the labels' structure is
    gone. The same `seed` draws the same activations for both. `estimator_options` are those of
    `estimate_information` (estimator, bins, bin_range, noise_variance).

    Example:
        >>> real = estimate_information(t, y, bins=30, bin_range=(-1, 1))
        >>> control = random_control(t, y, bins=30, bin_range=(-1, 1))
        >>> real_labels = random_control(t, y, shuffle_labels=False, bins=30, bin_range=(-1, 1))
    """
    shuffle_labels = check_bool("shuffle_labels", shuffle_labels)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    t = np.asarray(t, dtype=np.float64)
    flat = t.reshape(len(t), -1)
    noise = rng.standard_normal(flat.shape) * flat.std(axis=0) + flat.mean(axis=0)
    y = labels(y)
    y = rng.permutation(y) if shuffle_labels else y
    return estimate_information(noise.reshape(t.shape), y, **estimator_options)
