"""The learning-rate range test (Smith 2017, Sec. 3.3; popularised by fast.ai's `lr_find`).

A short training procedure on a clone of the model, not a callback.
"""

import math

import keras
import numpy as np
from keras import ops

from keras_seminar._validators import check_float, check_int
from keras_seminar.callbacks import plots
from keras_seminar.errors import UsageError

__all__ = ["lr_range_test", "suggest_learning_rate"]


class _ExponentialRange(keras.optimizers.schedules.LearningRateSchedule):
    """min_lr * (max_lr / min_lr) ** (step / (steps - 1)): min_lr at step 0, max_lr at the last."""

    def __init__(self, min_lr, max_lr, steps):
        self.min_lr, self.max_lr, self.steps = min_lr, max_lr, steps

    def __call__(self, step):
        fraction = ops.cast(step, "float32") / max(self.steps - 1, 1)
        return ops.exp(math.log(self.min_lr) + fraction * math.log(self.max_lr / self.min_lr))

    def get_config(self):
        return {"min_lr": self.min_lr, "max_lr": self.max_lr, "steps": self.steps}


def suggest_learning_rate(lrs, smoothed):
    """`(steepest, min_over_10)`: the LR where the smoothed loss falls fastest against log LR
    (searched before the loss minimum), and the LR of the minimum divided by 10."""
    lrs, smoothed = np.asarray(lrs, np.float64), np.asarray(smoothed, np.float64)
    best = int(np.argmin(smoothed))
    min_over_10 = float(lrs[best] / 10.0)
    if best < 2:
        return min_over_10, min_over_10
    slope = np.gradient(smoothed[:best + 1], np.log(lrs[:best + 1]))
    return float(lrs[int(np.argmin(slope))]), min_over_10


def lr_range_test(model, x, y, min_lr=1e-6, max_lr=1.0, steps=100, batch_size=32, smoothing=0.9,
                  stop_factor=4.0, plot_path=None, seed=0, verbose=0):
    """Trains briefly with an exponentially increasing learning rate and records the loss.

    The test runs on a clone of `model` (same weights, a fresh optimizer of the same class and
    settings), so `model`'s weights and optimizer state are left exactly as they were. It stops
    early once the smoothed loss exceeds `stop_factor` times its best value or is not finite.

    Args:
        model: a compiled functional or Sequential model.
        x, y: training data; batches are drawn in a shuffled order, cycling if needed.
        min_lr, max_lr: the learning-rate range, 0 < min_lr < max_lr.
        steps: number of training steps (one per learning rate).
        batch_size: examples per step.
        smoothing: exponential-moving-average factor of the loss, in [0, 1).
        stop_factor: divergence threshold, > 1.
        plot_path: if set, the loss-vs-LR plot is written there as PNG.

    Returns:
        A dict with `lrs`, `losses`, `smoothed` (NumPy arrays), `suggested_lr` (steepest
        descent of the smoothed loss) and `min_loss_lr_over_10`.

    Example:
        >>> result = lr_range_test(model, x_train, y_train, 1e-6, 1.0, steps=100)
        >>> model.optimizer.learning_rate = result["suggested_lr"]
    """
    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        raise UsageError(f"Expected a compiled model (optimizer and loss). Received: model {model.name!r}")
    if not (isinstance(min_lr, (int, float)) and isinstance(max_lr, (int, float)) and 0 < min_lr < max_lr):
        raise UsageError(f"Expected 0 < min_lr < max_lr. Received: min_lr={min_lr!r}, max_lr={max_lr!r}")
    steps, batch_size = check_int("steps", steps, 2), check_int("batch_size", batch_size, 1)
    if not 0 <= smoothing < 1:
        raise UsageError(f"Expected smoothing in [0, 1). Received: smoothing={smoothing!r}")
    stop_factor = check_float("stop_factor", stop_factor, low=1, low_open=True)
    if len(x) == 0 or len(x) != len(y):
        raise UsageError(f"Expected non-empty data with len(x) == len(y). Received: len(x)={len(x)}, len(y)={len(y)}")

    trial = keras.models.clone_model(model)
    trial.set_weights(model.get_weights())
    config = {**model.optimizer.get_config(), "learning_rate": _ExponentialRange(min_lr, max_lr, steps)}
    trial.compile(optimizer=type(model.optimizer).from_config(config), loss=model.loss)
    rng = np.random.default_rng(seed)
    x, y = np.asarray(x), np.asarray(y)
    batch_size = min(batch_size, len(x))
    order, cursor = rng.permutation(len(x)), 0
    lrs, losses, smoothed = [], [], []
    average, best = 0.0, math.inf
    for step in range(steps):
        if cursor + batch_size > len(order):
            order, cursor = rng.permutation(len(x)), 0
        idx = order[cursor:cursor + batch_size]
        cursor += batch_size
        lr = min_lr * (max_lr / min_lr) ** (step / (steps - 1))
        loss = float(trial.train_on_batch(x[idx], y[idx], return_dict=True)["loss"])
        if not math.isfinite(loss):
            break
        average = smoothing * average + (1 - smoothing) * loss
        debiased = average / (1 - smoothing ** (step + 1))
        lrs.append(lr)
        losses.append(loss)
        smoothed.append(debiased)
        best = min(best, debiased)
        if verbose:
            print(f"lr={lr:.3g} loss={loss:.4f} smoothed={debiased:.4f}")
        if debiased > stop_factor * best:
            break
    if not lrs:
        raise UsageError(f"The loss was not finite at min_lr={min_lr}; lower min_lr.")
    suggested, min_over_10 = suggest_learning_rate(lrs, smoothed)
    result = {"lrs": np.asarray(lrs), "losses": np.asarray(losses), "smoothed": np.asarray(smoothed),
              "suggested_lr": suggested, "min_loss_lr_over_10": min_over_10}
    if plot_path:
        result["plot_path"] = plots.plot_lr_range(plot_path, lrs, losses, smoothed, suggested)
    return result
