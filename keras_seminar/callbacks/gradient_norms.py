"""Gradient-norm monitoring: per-layer and global L2 norms of d loss / d w on a fixed probe batch."""

import json
import os

import keras
import numpy as np

from keras_seminar import backend
from keras_seminar.callbacks import plots
from keras_seminar.callbacks._monitor import Monitor
from keras_seminar.callbacks.tensorboard import check_int


def probe_gradients(model, x, y, variables=None):
    """The compiled loss of `model` on `(x, y)` and its gradients, as NumPy (float64).

    Runs in inference mode (`training=False`): no dropout noise and no BatchNorm statistics
    update, so probing never changes the model. Regularization losses are included, as in
    `fit`. Works on every backend through `keras_seminar.backend.value_and_variable_grads`.

    Args:
        model: a compiled Keras model.
        x, y: the probe batch.
        variables: the variables to differentiate (default: `model.trainable_variables`).
    """
    if getattr(model, "loss", None) is None:
        raise ValueError(f"Expected a compiled model with a loss. Received: model {model.name!r} without one")
    variables = list(model.trainable_variables if variables is None else variables)
    x = keras.ops.convert_to_tensor(x)
    y = keras.ops.convert_to_tensor(y)

    def loss_fn():
        return model.compute_loss(x=x, y=y, y_pred=model(x, training=False), training=False)

    loss, grads = backend.value_and_variable_grads(loss_fn, variables)
    grads = [np.zeros(v.shape) if g is None else np.asarray(keras.ops.convert_to_numpy(g), np.float64)
             for g, v in zip(grads, variables, strict=True)]
    return float(keras.ops.convert_to_numpy(loss)), grads


def gradient_norms(variables, grads, prefix=""):
    """`(global_norm, {layer_path: norm})`: L2 norms grouped by the owning layer's path, with
    `prefix` (e.g. "<model name>/") removed from the front of each path."""
    squares = {}
    for variable, grad in zip(variables, grads, strict=True):
        layer = variable.path.rsplit("/", 1)[0]
        layer = layer[len(prefix):] if prefix and layer.startswith(prefix) else layer
        squares[layer] = squares.get(layer, 0.0) + float(np.sum(np.square(grad)))
    return float(np.sqrt(sum(squares.values()))), {k: float(np.sqrt(v)) for k, v in squares.items()}


def validation_error(logs):
    """1 - validation accuracy from epoch `logs`, or None without a `val_*accuracy` entry."""
    for key, value in (logs or {}).items():
        if key.startswith("val_") and key.endswith("accuracy"):
            return 1.0 - float(value)
    return None


class GradientNormMonitor(Monitor):
    """Per-layer and global gradient L2 norms every N steps, with the validation error per epoch.

    Reproduces Goodfellow, Bengio & Courville (2016), *Deep Learning*, Fig. 8.1: the gradient
    norm often grows during training while the validation error still falls, so training is
    not converging to a critical point. Gradients are taken on a fixed probe batch (the same
    examples each time, so changes come from the weights alone).

    Args:
        x, y: the probe batch (a few hundred examples is plenty).
        every_n_steps: compute the norms every N optimizer steps.
        log_dir: if set, logs "gradient_norm/global" and "gradient_norm/<layer>" to
            `log_dir/train` and writes `gradient_norms.npz`, `.json` and `.png` into `log_dir`.
        verbose: 1 prints the last norms at each epoch end.

    After `fit`, `monitor.history` holds `steps`, `global_norm`, `layer_norms` (layer -> list)
    and `val_error` (one per epoch).

    Example:
        >>> monitor = GradientNormMonitor(x_train[:256], y_train[:256], every_n_steps=50)
        >>> model.fit(x, y, validation_data=(xv, yv), callbacks=[monitor])
    """

    def __init__(self, x, y, every_n_steps=100, log_dir=None, verbose=0):
        super().__init__(log_dir=log_dir, verbose=verbose)
        if len(x) == 0 or len(x) != len(y):
            raise ValueError(f"Expected a non-empty probe batch with len(x) == len(y). Received: "
                             f"len(x)={len(x)}, len(y)={len(y)}")
        self.x, self.y = x, y
        self.every_n_steps = check_int("every_n_steps", every_n_steps, 1)
        self.history = {}

    def on_train_begin(self, logs=None):
        self.history = {"steps": [], "global_norm": [], "layer_norms": {}, "val_error": []}
        opt = self.model.optimizer
        self._step = int(keras.ops.convert_to_numpy(opt.iterations)) if opt is not None and opt.built else 0
        self.open_writer()

    def on_train_batch_end(self, batch, logs=None):
        # Count without touching `self.model`: on JAX that property syncs the whole state.
        self._step += 1
        if self._step % self.every_n_steps == 0:
            self.measure(self._step)

    def measure(self, step):
        """Computes, records and logs the norms at `step`; returns `(global, per_layer)`."""
        variables = self.model.trainable_variables
        _, grads = probe_gradients(self.model, self.x, self.y, variables)
        total, per_layer = gradient_norms(variables, grads, prefix=f"{self.model.name}/")
        self.history["steps"].append(step)
        self.history["global_norm"].append(total)
        for layer, norm in per_layer.items():
            self.history["layer_norms"].setdefault(layer, []).append(norm)
        if self._writer is not None:
            self._writer.scalars({"gradient_norm/global": total,
                                  **{f"gradient_norm/{k}": v for k, v in per_layer.items()}}, step)
        return total, per_layer

    def on_epoch_end(self, epoch, logs=None):
        error = validation_error(logs)
        if error is not None:
            self.history["val_error"].append(error)
        if self.verbose and self.history["global_norm"]:
            print(f"Epoch {epoch + 1}: gradient norm {self.history['global_norm'][-1]:.4g}"
                  + ("" if error is None else f", validation error {error:.4f}"))
        if self._writer is not None:
            self._writer.flush()

    def save(self, folder):
        """Writes `gradient_norms.npz`, `.json` and the Fig. 8.1 style `.png` into `folder`."""
        h = self.history
        os.makedirs(folder, exist_ok=True)
        base = os.path.join(folder, "gradient_norms")
        np.savez(base + ".npz", steps=np.asarray(h["steps"]), global_norm=np.asarray(h["global_norm"]),
                 val_error=np.asarray(h["val_error"]),
                 **{f"layer/{k}": np.asarray(v) for k, v in h["layer_norms"].items()})
        with open(base + ".json", "w") as f:
            json.dump(h, f)
        return plots.plot_gradient_norms(base + ".png", h["steps"], h["global_norm"], h["val_error"])
