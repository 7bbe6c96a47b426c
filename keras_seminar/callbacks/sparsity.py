"""Sparsity monitoring: near-zero weights, near-zero activations and dead units per layer."""

import json
import os

import keras
import numpy as np

from keras_seminar.callbacks import plots
from keras_seminar.callbacks._monitor import Monitor
from keras_seminar.callbacks.tensorboard import check_int, kernel_layers

_NONLINEAR_LAYERS = (keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.PReLU, keras.layers.ELU)


def hidden_activation_layers(model):
    """The top-level layers whose output is a nonlinearity's, the model's output layer excluded."""
    outputs = {id(t) for t in model.outputs}
    chosen = []
    for layer in model.layers:
        activation = getattr(layer, "activation", None)
        nonlinear = isinstance(layer, _NONLINEAR_LAYERS) or (
            activation is not None and activation is not keras.activations.linear)
        if nonlinear and id(layer.output) not in outputs:
            chosen.append(layer)
    return chosen


def activation_model(model, layers):
    """A model from `model`'s inputs to the outputs of `layers` (names or layer objects)."""
    try:
        layers = [model.get_layer(item) if isinstance(item, str) else item for item in layers]
        return keras.Model(model.inputs, [layer.output for layer in layers]), [layer.name for layer in layers]
    except (AttributeError, ValueError) as e:
        raise ValueError(f"Expected a built functional or Sequential model whose layers include "
                         f"{[getattr(item, 'name', item) for item in layers]}. Received: {model.name!r} ({e})") from e


def layer_activations(extractor, x):
    """The extractor's outputs on `x` (inference mode) as NumPy arrays."""
    outputs = extractor(keras.ops.convert_to_tensor(x), training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(keras.ops.convert_to_numpy(o)) for o in outputs]


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

    Weight sparsity counts kernel entries with |w| < eps (biases excluded). Activation sparsity
    is the fraction of hidden activations with |a| < eps on `probe_x`; a unit is dead when it is
    inactive on every probe example (Glorot et al. 2011 on ReLU sparsity; Lu et al. 2019,
    "Dying ReLU").

    Args:
        probe_x: a fixed batch of inputs.
        eps: threshold for "near zero", > 0.
        layers: names of the layers whose outputs are measured; default: every hidden layer
            with a nonlinear activation.
        every_n_epochs: measure every N epochs.
        log_dir: if set, logs "sparsity/weights/<layer>", "sparsity/activations/<layer>" and
            "sparsity/dead_units/<layer>" and writes `sparsity.npz`, `.json`, `.png` there.
        verbose: 1 prints a line per measurement.

    Example:
        >>> model.fit(x, y, callbacks=[SparsityMonitor(probe_x=x[:256], log_dir="runs/demo")])
    """

    def __init__(self, probe_x, eps=1e-3, layers=None, every_n_epochs=1, log_dir=None, verbose=0):
        super().__init__(log_dir=log_dir, verbose=verbose)
        if probe_x is None or len(probe_x) == 0:
            raise ValueError(f"Expected a non-empty probe_x. Received: probe_x={probe_x!r}")
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not np.isfinite(eps) or eps <= 0:
            raise ValueError(f"Expected eps > 0. Received: eps={eps!r}")
        self.probe_x = probe_x
        self.eps = float(eps)
        self.layers = None if layers is None else list(layers)
        self.every_n_epochs = check_int("every_n_epochs", every_n_epochs, 1)
        self.history = {}

    def on_train_begin(self, logs=None):
        layers = hidden_activation_layers(self.model) if self.layers is None else self.layers
        self._extractor, self._names = activation_model(self.model, layers) if layers else (None, [])
        self.history = {"epochs": [], "weights": {}, "activations": {}, "dead_units": {}}
        self.open_writer()

    def on_epoch_end(self, epoch, logs=None):
        if epoch % self.every_n_epochs == 0:
            self.measure(epoch)

    def measure(self, epoch):
        """Measures, records and logs every layer at `epoch`; returns this epoch's numbers."""
        row = {"weights": {}, "activations": {}, "dead_units": {}}
        for layer in kernel_layers(self.model):
            row["weights"][layer.name] = weight_sparsity(keras.ops.convert_to_numpy(layer.kernel), self.eps)
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
        os.makedirs(folder, exist_ok=True)
        base = os.path.join(folder, "sparsity")
        np.savez(base + ".npz", epochs=np.asarray(h["epochs"]),
                 **{f"{kind}/{name}": np.asarray(v) for kind in ("weights", "activations", "dead_units")
                    for name, v in h[kind].items()})
        with open(base + ".json", "w") as f:
            json.dump(h, f)
        return plots.plot_sparsity(base + ".png", h["epochs"], h["weights"], h["activations"],
                                   h["dead_units"])
