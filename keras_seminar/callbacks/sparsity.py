"""Sparsity monitoring: near-zero weights, near-zero activations and dead units per layer."""

import keras
import numpy as np

from keras_seminar._validators import check_float, check_int
from keras_seminar.callbacks import plots
from keras_seminar.callbacks._monitor import Monitor
from keras_seminar.callbacks._probes import (
    activation_model,
    check_probe,
    hidden_layers,
    kernel_variables,
    layer_activations,
)

__all__ = ["SparsityMonitor", "activation_sparsity", "weight_sparsity"]


def weight_sparsity(kernel, eps):
    """Fraction of entries with |w| < eps."""
    return float(np.mean(np.abs(np.asarray(kernel)) < eps))


def activation_sparsity(activations, eps):
    """`(fraction of |a| < eps, fraction of dead units)`; a unit is a channel (last axis), dead when
    |a| < eps for every example and position of the probe."""
    inactive = np.abs(activations) < eps
    dead = inactive.reshape(-1, inactive.shape[-1]).all(axis=0)
    return float(inactive.mean()), float(dead.mean())


class SparsityMonitor(Monitor):
    """Per layer: weight sparsity, activation sparsity and dead units on a fixed probe batch.

    Weight sparsity counts entries with |w| < eps of every kernel (biases excluded), sublayers'
    kernels included (each convolution of an `MLPConv` is its own entry, "block/block_conv0").
    Activation sparsity is the fraction of hidden activations with |a| < eps on `probe_x`; a
    unit is dead when it is inactive on every probe example (Glorot et al. 2011 on ReLU
    sparsity; Lu et al. 2019, "Dying ReLU"). The hidden layers are chosen by what they compute
    (`_probes.hidden_layers`): `Maxout`, `MaxoutChannels`, `MLPConv` and residual blocks count.

    Args:
        probe_x: a fixed batch of inputs.
        eps: threshold for "near zero", > 0.
        layers: names of the layers whose outputs are measured; default: every hidden layer.
        every_n_epochs: measure every N epochs.
        log_dir: if set, logs "sparsity/weights/<kernel>", "sparsity/activations/<layer>" and
            "sparsity/dead_units/<layer>" and writes `sparsity.npz`, `.json`, `.png` there.
        verbose: 1 prints a line per measurement.

    Example:
        >>> model.fit(x, y, callbacks=[SparsityMonitor(probe_x=x[:256], log_dir="runs/demo")])
    """

    def __init__(self, probe_x, eps=1e-3, layers=None, every_n_epochs=1, log_dir=None, verbose=0):
        super().__init__(log_dir=log_dir, verbose=verbose)
        self.probe_x, _ = check_probe(probe_x, x_name="probe_x")
        self.eps = check_float("eps", eps, low=0, low_open=True)
        self.layers = None if layers is None else list(layers)
        self.every_n_epochs = check_int("every_n_epochs", every_n_epochs, 1)
        self.history = {}

    def on_train_begin(self, logs=None):
        layers = hidden_layers(self.model) if self.layers is None else self.layers
        self._extractor, self._names = activation_model(self.model, layers) if layers else (None, [])
        self.history = {"epochs": [], "weights": {}, "activations": {}, "dead_units": {}}
        self.open_writer()

    def on_epoch_end(self, epoch, logs=None):
        if epoch % self.every_n_epochs == 0:
            self.measure(epoch)

    def measure(self, epoch):
        """Measures, records and logs every layer at `epoch`; returns this epoch's numbers."""
        row = {"weights": {}, "activations": {}, "dead_units": {}}
        for label, kernel in kernel_variables(self.model):
            row["weights"][label] = weight_sparsity(keras.ops.convert_to_numpy(kernel), self.eps)
        if self._extractor is not None:
            for name, a in zip(self._names, layer_activations(self._extractor, self.probe_x), strict=True):
                row["activations"][name], row["dead_units"][name] = activation_sparsity(a, self.eps)
        self.history["epochs"].append(epoch)
        for kind, values in row.items():
            for name, value in values.items():
                self.history[kind].setdefault(name, []).append(value)
        if self._writer is not None:
            self._writer.scalars({f"sparsity/{kind}/{name}": v for kind, values in row.items()
                                  for name, v in values.items()}, epoch)
            self._writer.flush()
        if self.verbose:
            print(f"Epoch {epoch + 1}: activation sparsity {row['activations']}, dead units {row['dead_units']}")
        return row

    def save(self, folder):
        """Writes `sparsity.npz`, `sparsity.json` and `sparsity.png` into `folder`."""
        h = self.history
        base = self.base_path(folder, "sparsity")
        self.write_npz(base + ".npz", epochs=np.asarray(h["epochs"]),
                       **{f"{kind}/{name}": np.asarray(v) for kind in ("weights", "activations", "dead_units")
                          for name, v in h[kind].items()})
        self.write_json(base + ".json", h)
        return plots.plot_sparsity(base + ".png", h["epochs"], h["weights"], h["activations"],
                                   h["dead_units"])
