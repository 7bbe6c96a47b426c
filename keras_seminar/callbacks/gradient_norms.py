"""Gradient-norm monitoring: per-layer and global L2 norms of d loss / d w on a probe batch."""

import keras
import numpy as np

from keras_seminar._validators import check_int
from keras_seminar.callbacks import plots
from keras_seminar.callbacks._monitor import Monitor
from keras_seminar.callbacks._probes import check_probe, probe_gradients
from keras_seminar.errors import UsageError

__all__ = ["GradientNormMonitor", "gradient_norms", "probe_gradients", "validation_error"]


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
    """Per-layer and global gradient L2 norms during training, with the validation error per epoch.

    Reproduces Goodfellow, Bengio & Courville (2016), *Deep Learning*, Fig. 8.1: the gradient
    norm often grows during training while the validation error still falls, so training is
    not converging to a critical point. Gradients are taken on a fixed probe batch (the same
    examples each time, so changes come from the weights alone), or, with `batch_size`, on a
    fresh random `batch_size` draw from `(x, y)` each time: the norms of individual minibatch
    gradients, whose scatter Fig. 8.1 shows. The norms are measured after
    the first step of each `fit`, every `every_n_steps` steps, and at the end of every epoch,
    so even a short run gets at least one measurement per epoch.

    Args:
        x, y: the probe batch (a few hundred examples is plenty).
        every_n_steps: also measure every N optimizer steps.
        batch_size: None (the whole of `(x, y)` each time), or the size of a random batch drawn
            from `(x, y)` without replacement for each measurement.
        seed: the seed of those draws.
        log_dir: if set, logs "gradient_norm/global" and "gradient_norm/<layer>" to
            `log_dir/train` once per epoch (the norms at the epoch's last step, with the epoch
            as the step, like Keras's `epoch_*` scalars beside them), and writes every
            measurement (per step) to `gradient_norms.npz`, `.json` and `.png` in `log_dir`.
        verbose: 1 prints the last norms at each epoch end.

    After `fit`, `monitor.history` holds `steps`, `global_norm`, `layer_norms` (layer -> list)
    and `val_error` (one per epoch).

    Example:
        >>> monitor = GradientNormMonitor(x_train[:256], y_train[:256], every_n_steps=50)
        >>> model.fit(x, y, validation_data=(xv, yv), callbacks=[monitor])
    """

    def __init__(self, x, y, every_n_steps=100, log_dir=None, verbose=0, batch_size=None, seed=0):
        super().__init__(log_dir=log_dir, verbose=verbose)
        self.x, self.y = check_probe(x, y)
        self.every_n_steps = check_int("every_n_steps", every_n_steps, 1)
        self.batch_size = check_int("batch_size", batch_size, 1, allow_none=True)
        if self.batch_size is not None and self.batch_size > len(self.x):
            raise UsageError(f"Expected batch_size <= len(x) = {len(self.x)}. Received: batch_size={batch_size}")
        self._rng = np.random.default_rng(check_int("seed", seed, 0))
        self.history = {}

    def on_train_begin(self, logs=None):
        self.history = {"steps": [], "global_norm": [], "layer_norms": {}, "val_error": []}
        opt = self.model.optimizer
        self._step = int(keras.ops.convert_to_numpy(opt.iterations)) if opt is not None and opt.built else 0
        self._epoch_start, self._last = self._step, None
        self.open_writer()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = self._step

    def on_train_batch_end(self, batch, logs=None):
        # The step from `batch` (the last step run, also with steps_per_execution > 1), not from
        # `self.model`: on JAX that property syncs the whole state.
        previous, self._step = self._step, self._epoch_start + batch + 1
        if self._last is None or self._step // self.every_n_steps > previous // self.every_n_steps:
            self.measure(self._step)

    def measure(self, step):
        """Computes, records and logs the norms at `step`; returns `(global, per_layer)`."""
        variables = self.model.trainable_variables
        x, y = self.x, self.y
        if self.batch_size is not None:
            idx = np.sort(self._rng.choice(len(x), self.batch_size, replace=False))
            x, y = x[idx], y[idx]
        _, grads = probe_gradients(self.model, x, y, variables)
        total, per_layer = gradient_norms(variables, grads, prefix=f"{self.model.name}/")
        self._last, self._last_norms = step, (total, per_layer)
        self.history["steps"].append(step)
        self.history["global_norm"].append(total)
        for layer, norm in per_layer.items():
            self.history["layer_norms"].setdefault(layer, []).append(norm)
        return total, per_layer

    def on_epoch_end(self, epoch, logs=None):
        if self._last != self._step:
            self.measure(self._step)
        error = validation_error(logs)
        if error is not None:
            self.history["val_error"].append(error)
        if self.verbose:
            print(f"Epoch {epoch + 1}: gradient norm {self.history['global_norm'][-1]:.4g}"
                  + ("" if error is None else f", validation error {error:.4f}"))
        if self._writer is not None:  # per epoch, on the x-axis of Keras's epoch_* scalars
            total, per_layer = self._last_norms
            self._writer.scalars({"gradient_norm/global": total,
                                  **{f"gradient_norm/{k}": v for k, v in per_layer.items()}}, epoch)
            self._writer.flush()

    def save(self, folder):
        """Writes `gradient_norms.npz`, `.json` and the Fig. 8.1 style `.png` into `folder`."""
        h = self.history
        base = self.base_path(folder, "gradient_norms")
        self.write_npz(base + ".npz", steps=np.asarray(h["steps"]), global_norm=np.asarray(h["global_norm"]),
                       val_error=np.asarray(h["val_error"]),
                       **{f"layer/{k}": np.asarray(v) for k, v in h["layer_norms"].items()})
        self.write_json(base + ".json", h)
        return plots.plot_gradient_norms(base + ".png", h["steps"], h["global_norm"], h["val_error"])
