"""The information plane (Shwartz-Ziv & Tishby 2017): I(X;T) and I(T;Y) of hidden layers per epoch.

The estimators are pure NumPy and public, so they can be checked on synthetic data with known
mutual information. All results are in bits.
"""

import json
import os

import numpy as np

from keras_seminar.callbacks import plots
from keras_seminar.callbacks._monitor import Monitor
from keras_seminar.callbacks.sparsity import (
    activation_model,
    hidden_activation_layers,
    layer_activations,
)
from keras_seminar.callbacks.tensorboard import check_int

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


def discretize(t, bins=30, value_range=None):
    """Bin indices (N, D) in [0, bins) of activations `t`, with `bins` equal bins over
    `value_range` (default: the activations' own [min, max]). A constant `t` falls in bin 0."""
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
    scaled -= lo
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


def _labels(y):
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
        value_range: (lo, hi) of the bins; default the activations' range.
    """
    t_ids = _row_symbols(discretize(t, bins, value_range))
    y = _labels(y)
    h_t = entropy(t_ids)
    h_t_given_y = sum(np.mean(y == c) * entropy(t_ids[y == c]) for c in np.unique(y))
    return h_t, max(h_t - h_t_given_y, 0.0)


def _log_mean_kernel(t, noise_variance):
    """log (1/N) sum_j exp(-|t_i - t_j|^2 / (2 var)) for each i (log-sum-exp, stable)."""
    sq = np.sum(t * t, axis=1)
    d = np.maximum(sq[:, None] + sq[None, :] - 2.0 * t @ t.T, 0.0) / (2.0 * noise_variance)
    m = np.min(d, axis=1, keepdims=True)  # the largest exponent is -min(d)
    return -m[:, 0] + np.log(np.mean(np.exp(m - d), axis=1))


def kde_mutual_information(t, y, noise_variance=1e-3):
    """`(I(X;T), I(T;Y))` in bits: the pairwise-distance (KL) upper bound of Kolchinsky & Tracey
    (2017) as used by Saxe et al. (2018), with T = h(X) + N(0, noise_variance I).

    H(T) of the Gaussian mixture is bounded by -mean_i log mean_j N(t_i; t_j, var) + D/2; the
    Gaussian constants cancel in both differences, leaving
    I(X;T) = -mean_i log mean_j exp(-|t_i - t_j|^2 / 2 var), and I(T;Y) = H(T) - sum_c p_c H(T|c).
    """
    if not noise_variance > 0:
        raise ValueError(f"Expected noise_variance > 0. Received: noise_variance={noise_variance!r}")
    t = np.asarray(t, dtype=np.float64).reshape(len(t), -1)
    y = _labels(y)
    h = -np.mean(_log_mean_kernel(t, noise_variance))  # H_upper(T) up to the Gaussian constant
    h_given_y = sum(np.mean(y == c) * -np.mean(_log_mean_kernel(t[y == c], noise_variance))
                    for c in np.unique(y))
    return float(h / np.log(2)), float(max(h - h_given_y, 0.0) / np.log(2))


class InformationPlane(Monitor):
    """Per-epoch I(X;T) and I(T;Y) of chosen layers on a fixed sample, and the information plane.

    Shwartz-Ziv & Tishby (2017), "Opening the black box of deep neural networks via
    information"; Saxe et al. (2018) for the KDE estimator and the caveats (compression
    depends on the nonlinearity and on the estimator).

    Args:
        layers: names (or layer objects) of the layers T to measure; None: every hidden layer
            with a nonlinear activation.
        x, y: the fixed sample (labels or one-hot).
        bins: bins of the binning estimator.
        estimator: "binning" or "kde".
        noise_variance: the KDE estimator's noise variance.
        every_n_epochs: measure every N epochs.
        log_dir: if set, logs "information/I_XT/<layer>", "information/I_TY/<layer>" and
            writes `information_plane.npz`, `.json`, `.png` there.
        verbose: 1 prints each measurement.

    Example:
        >>> plane = InformationPlane(["fc1", "fc2"], x_val[:1000], y_val[:1000], log_dir="runs/ip")
    """

    def __init__(self, layers, x, y, bins=30, estimator="binning", noise_variance=1e-3,
                 every_n_epochs=1, log_dir=None, verbose=0):
        super().__init__(log_dir=log_dir, verbose=verbose)
        if layers is not None and (isinstance(layers, str) or not layers):
            raise ValueError(f"Expected a non-empty list of layers or None. Received: layers={layers!r}")
        if len(x) == 0 or len(x) != len(y):
            raise ValueError(f"Expected a non-empty sample with len(x) == len(y). Received: "
                             f"len(x)={len(x)}, len(y)={len(y)}")
        if estimator not in ESTIMATORS:
            raise ValueError(f"Expected estimator in {ESTIMATORS}. Received: estimator={estimator!r}")
        if not noise_variance > 0:
            raise ValueError(f"Expected noise_variance > 0. Received: noise_variance={noise_variance!r}")
        self.layers, self.x, self.y = None if layers is None else list(layers), x, y
        self.bins = check_int("bins", bins, 2)
        self.estimator = estimator
        self.noise_variance = float(noise_variance)
        self.every_n_epochs = check_int("every_n_epochs", every_n_epochs, 1)
        self.history = {}

    def on_train_begin(self, logs=None):
        layers = hidden_activation_layers(self.model) if self.layers is None else self.layers
        if not layers:
            raise ValueError(f"Model {self.model.name!r} has no hidden nonlinear layer; pass layers=.")
        self._extractor, self.layer_names = activation_model(self.model, layers)
        self.history = {"epochs": [], "I_XT": [], "I_TY": []}
        self.open_writer()

    def on_epoch_end(self, epoch, logs=None):
        if epoch % self.every_n_epochs == 0:
            self.measure(epoch)

    def estimate(self, t):
        if self.estimator == "kde":
            return kde_mutual_information(t, self.y, self.noise_variance)
        return binned_mutual_information(t, self.y, self.bins)

    def measure(self, epoch):
        """Estimates both informations for every layer at `epoch`; returns `(I_XT, I_TY)` lists."""
        pairs = [self.estimate(t) for t in layer_activations(self._extractor, self.x)]
        ixt, ity = [p[0] for p in pairs], [p[1] for p in pairs]
        self.history["epochs"].append(epoch)
        self.history["I_XT"].append(ixt)
        self.history["I_TY"].append(ity)
        if self._writer is not None:
            values = {}
            for name, a, b in zip(self.layer_names, ixt, ity, strict=True):
                values[f"information/I_XT/{name}"], values[f"information/I_TY/{name}"] = a, b
            self._writer.scalars(values, epoch)
            self._writer.flush()
        if self.verbose:
            print(f"Epoch {epoch + 1}: " + ", ".join(
                f"{n}: I(X;T)={a:.3f} I(T;Y)={b:.3f}" for n, a, b in zip(self.layer_names, ixt, ity, strict=True)))
        return ixt, ity

    def save(self, folder):
        """Writes `information_plane.npz`, `.json` and the information-plane `.png` into `folder`."""
        h = self.history
        os.makedirs(folder, exist_ok=True)
        base = os.path.join(folder, "information_plane")
        ixt = np.asarray(h["I_XT"]).reshape(-1, len(self.layer_names))
        ity = np.asarray(h["I_TY"]).reshape(-1, len(self.layer_names))
        np.savez(base + ".npz", epochs=np.asarray(h["epochs"]), I_XT=ixt, I_TY=ity,
                 layers=np.asarray(self.layer_names), estimator=self.estimator)
        with open(base + ".json", "w") as f:
            json.dump({**h, "layers": self.layer_names, "estimator": self.estimator}, f)
        return plots.plot_information_plane(base + ".png", ixt, ity, self.layer_names, h["epochs"])
