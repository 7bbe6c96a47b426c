"""The information plane (Shwartz-Ziv & Tishby 2017): I(X;T) and I(T;Y) of hidden layers per epoch.

The estimators (pure NumPy, in bits) live in `_information` and are re-exported here.
"""

import warnings

import numpy as np

from keras_seminar._validators import check_bool, check_choice, check_float, check_int
from keras_seminar.callbacks import plots
from keras_seminar.callbacks._information import (
    ESTIMATORS,
    binned_mutual_information,
    check_bin_range,
    discretize,
    entropy,
    estimate_information,
    is_saturated,
    kde_mutual_information,
    random_control,
    saturation_advice,
)
from keras_seminar.callbacks._monitor import Monitor
from keras_seminar.callbacks._probes import (
    activation_model,
    check_probe,
    hidden_layers,
    layer_activations,
)
from keras_seminar.errors import UsageError

__all__ = ["ESTIMATORS", "InformationPlane", "binned_mutual_information", "discretize", "entropy",
           "estimate_information", "is_saturated", "kde_mutual_information", "random_control"]


def _width(layer):
    """Units in one example of `layer`'s output (its first output, for a multi-output layer)."""
    output = layer.output[0] if isinstance(layer.output, (list, tuple)) else layer.output
    return int(np.prod(output.shape[1:]))


class InformationPlane(Monitor):
    """Per-epoch I(X;T) and I(T;Y) of chosen layers on a fixed sample, and the information plane.

    Shwartz-Ziv & Tishby (2017), "Opening the black box of deep neural networks via
    information"; Saxe et al. (2018) for the KDE estimator and the caveats (compression
    depends on the nonlinearity and on the estimator).

    The paper bins every layer's activations into 30 equal bins over a range fixed once, the
    tanh range (-1, 1): pass `bin_range=(-1, 1)` for that. Without `bin_range` each layer is
    re-binned over its own [min, max] at every measurement (the older behaviour). When every
    probe sample gets its own code the estimate is at its ceiling, I(X;T) = log2(N) and
    I(T;Y) = H(Y), as for random activations: the callback then warns once per fit, naming
    every saturated layer and the fix, and records it in `history["saturated"]`. On a CNN's
    conv layers (thousands of units) every bin count saturates with a few hundred probe samples,
    and so does KDE: measure the narrow layers (`layers=["fc1"]`) with few bins. `control=True`
    also records the estimate on random activations, with permuted labels (`control_I_XT`,
    `control_I_TY`) and with the real labels (`control_real_I_TY`; `random_control`), beside
    every estimate.

    Args:
        layers: names (or layer objects) of the layers T to measure; None: every hidden layer
            (chosen by what it computes: `Maxout`, `MaxoutChannels`, `MLPConv` count).
        x, y: the fixed sample (labels or one-hot).
        bins: bins of the binning estimator.
        estimator: "binning" or "kde".
        noise_variance: the KDE estimator's noise variance.
        every_n_epochs: measure every N epochs.
        log_dir: if set, logs "information/I_XT/<layer>", "information/I_TY/<layer>" (and
            "information/control_I_XT/<layer>" ...) and writes `information_plane.npz`, `.json`,
            `.png` there.
        verbose: 1 prints each measurement.
        bin_range: None, or (lo, hi) of the bins, the same for every layer and epoch.
        control: also estimate the random control at every measurement.
        max_width: with `layers=None`, measure only the hidden layers of at most this many
            units (e.g. the probe's size: a wider layer gives every sample its own code), or
            every hidden layer when none is that narrow. None: every hidden layer.

    Example:
        >>> plane = InformationPlane(["fc1", "fc2"], x_val[:1000], y_val[:1000], bins=30,
        ...                          bin_range=(-1, 1), control=True, log_dir="runs/ip")
    """

    def __init__(self, layers, x, y, bins=30, estimator="binning", noise_variance=1e-3,
                 every_n_epochs=1, log_dir=None, verbose=0, bin_range=None, control=False,
                 max_width=None):
        super().__init__(log_dir=log_dir, verbose=verbose)
        if layers is not None and (isinstance(layers, str) or not layers):
            raise UsageError(f"Expected a non-empty list of layers or None. Received: layers={layers!r}")
        self.x, self.y = check_probe(x, y)
        self.layers = None if layers is None else list(layers)
        self.bins = check_int("bins", bins, 2)
        self.estimator = check_choice("estimator", estimator, ESTIMATORS)
        self.noise_variance = check_float("noise_variance", noise_variance, low=0, low_open=True)
        self.every_n_epochs = check_int("every_n_epochs", every_n_epochs, 1)
        self.bin_range = check_bin_range(bin_range)
        self.control = check_bool("control", control)
        self.max_width = check_int("max_width", max_width, 1, allow_none=True)
        self.history = {}

    def on_train_begin(self, logs=None):
        layers = hidden_layers(self.model) if self.layers is None else self.layers
        if self.layers is None and self.max_width is not None:
            narrow = [layer for layer in layers if _width(layer) <= self.max_width]
            layers = narrow or layers
        if not layers:
            raise UsageError(f"Model {self.model.name!r} has no hidden layer to measure; pass layers=.")
        self._extractor, self.layer_names = activation_model(self.model, layers)
        self.history = {"epochs": [], "I_XT": [], "I_TY": [], "saturated": []}
        if self.control:
            self.history.update(control_I_XT=[], control_I_TY=[], control_real_I_TY=[])
        self._warned = False
        self.open_writer()

    def on_epoch_end(self, epoch, logs=None):
        if epoch % self.every_n_epochs == 0:
            self.measure(epoch)

    @property
    def estimator_options(self):
        """The settings every estimate (and its control) is made with."""
        return {"estimator": self.estimator, "bins": self.bins, "bin_range": self.bin_range,
                "noise_variance": self.noise_variance}

    def estimate(self, t):
        """`(I(X;T), I(T;Y))` of activations `t` on this callback's labels and settings."""
        return estimate_information(t, self.y, **self.estimator_options)

    def measure(self, epoch):
        """Estimates both informations for every layer at `epoch`; returns `(I_XT, I_TY)` lists."""
        activations = layer_activations(self._extractor, self.x)
        pairs = [self.estimate(t) for t in activations]
        ixt, ity = [p[0] for p in pairs], [p[1] for p in pairs]
        saturated = [is_saturated(a, b, self.y) for a, b in pairs]
        h = self.history
        h["epochs"].append(epoch)
        h["I_XT"].append(ixt)
        h["I_TY"].append(ity)
        h["saturated"].append(saturated)
        values = {}
        for name, a, b in zip(self.layer_names, ixt, ity, strict=True):
            values[f"information/I_XT/{name}"], values[f"information/I_TY/{name}"] = a, b
        if self.control:
            controls = [random_control(t, self.y, seed=epoch, **self.estimator_options) for t in activations]
            real = [random_control(t, self.y, seed=epoch, shuffle_labels=False, **self.estimator_options)[1]
                    for t in activations]
            h["control_I_XT"].append([c[0] for c in controls])
            h["control_I_TY"].append([c[1] for c in controls])
            h["control_real_I_TY"].append(real)
            for name, (a, b), r in zip(self.layer_names, controls, real, strict=True):
                values[f"information/control_I_XT/{name}"] = a
                values[f"information/control_I_TY/{name}"] = b
                values[f"information/control_real_I_TY/{name}"] = r
        widths = {name: int(np.prod(t.shape[1:]))
                  for name, t, flag in zip(self.layer_names, activations, saturated, strict=True) if flag}
        if widths and not self._warned:  # once per fit, every saturated layer in one message
            self._warned = True
            warnings.warn(f"InformationPlane: saturated at epoch {epoch}, {len(widths)} of "
                          f"{len(self.layer_names)} layers (" + ", ".join(
                              f"{name!r} width {w}" for name, w in widths.items()) + "): "
                          + saturation_advice(self.estimator, len(self.y), max(widths.values())),
                          stacklevel=2)
        if self._writer is not None:
            self._writer.scalars(values, epoch)
            self._writer.flush()
        if self.verbose:
            print(f"Epoch {epoch + 1}: " + ", ".join(
                f"{n}: I(X;T)={a:.3f} I(T;Y)={b:.3f}" for n, a, b in zip(self.layer_names, ixt, ity, strict=True)))
        return ixt, ity

    def save(self, folder):
        """Writes `information_plane.npz`, `.json` and the information-plane `.png` into `folder`."""
        h = self.history
        base = self.base_path(folder, "information_plane")
        width = len(self.layer_names)
        arrays = {k: np.asarray(v, dtype=np.float64).reshape(-1, width)
                  for k, v in h.items() if k not in ("epochs", "saturated")}
        self.write_npz(base + ".npz", epochs=np.asarray(h["epochs"]), layers=np.asarray(self.layer_names),
                       saturated=np.asarray(h["saturated"], dtype=bool).reshape(-1, width),
                       estimator=self.estimator, **arrays)
        self.write_json(base + ".json", {**h, "layers": self.layer_names, **self.estimator_options})
        return plots.plot_information_plane(base + ".png", arrays["I_XT"], arrays["I_TY"], self.layer_names,
                                            h["epochs"])
