"""The training engine: every Keras `fit` of the package runs in `fit_model`.

`train()`, `fit_arrays`, the fused path, tuning's trials and the experiments all fit through
it, so what a fit means is decided here once:

- data order: with `shuffle=True` each epoch sees the training set in a new order drawn from
  `seed`, on every backend (Keras on TensorFlow replays one order once a global seed is set:
  there the order comes from `backend.epoch_ordered_batches`);
- NaN guard and rollback: a non-finite loss stops training and raises `TrainingDiverged`,
  whose message says what each `callbacks.TrainingCallback` kept (its `rollback_note` hook,
  e.g. the backup's last finite epoch);
- steps per compiled call (`steps_per_execution`), and a progress bar that counts them right;
- fused or not: `fused=True` keeps the training set on the device (`training.fused`).

Example:
    >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> history = fit_model(model, x, y, batch_size=128, epochs=3, seed=0)
"""

import contextlib

import keras
import numpy as np

from keras_seminar import backend
from keras_seminar._validators import check_int
from keras_seminar.callbacks.hooks import TrainingCallback
from keras_seminar.callbacks.nan_guard import NaNGuard
from keras_seminar.errors import TrainingDiverged
from keras_seminar.training.fused import DeviceChunks, scanned_steps

__all__ = ["fit_model", "StepProgbar"]


class StepProgbar(keras.callbacks.ProgbarLogger):
    """Keras's progress bar, counting steps right with several steps per call: Keras numbers an
    epoch's last call as if it were full (211 steps at 16 per call ended at "224/211", ETA
    "-1s"); here the count stops at the epoch's steps."""

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(min(batch, self.target - 1) if self.target else batch, logs)


def fit_model(model, x, y=None, *, batch_size=None, epochs=1, initial_epoch=0, seed=None,
              shuffle=True, steps_per_execution=None, fused=False, scan=None, callbacks=(),
              validation_data=None, verbose=0, advice=""):
    """Fits the compiled `model`; raises `TrainingDiverged` on a non-finite loss.

    Args:
        model: a compiled `keras.Model`.
        x, y: training inputs and targets (arrays, or structures of arrays); or `x` a dataset
            (`tf.data`, `keras.utils.PyDataset`) with `y=None`, fitted in its own order.
        batch_size: examples per step (arrays only).
        epochs, initial_epoch: as in `keras.Model.fit`.
        seed: draws the order of every epoch (a non-negative int; None: NumPy's global
            generator). The same seed gives the same batches in every epoch, resumed or not.
        shuffle: False keeps the order of `x`.
        steps_per_execution: steps per compiled call for this fit (None: as compiled; with
            `fused`, a whole epoch on an accelerator).
        fused: keep the training set on the device (`training.fused`); `scan` folds each call's
            steps with `jax.lax.scan` (JAX only; None: on an accelerator only).
        callbacks: Keras callbacks; `TrainingCallback`s also hear the engine's hooks.
        validation_data, verbose: as in `keras.Model.fit`.
        advice: a sentence the divergence message ends with (e.g. which setting to lower).

    Returns:
        The `keras.callbacks.History` of this fit.
    """
    epochs = check_int("epochs", epochs, minimum=1)
    seed = check_int("seed", seed, minimum=0, allow_none=True)
    if y is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
        sizes = {len(a) for a in keras.tree.flatten((x, y))}
        if len(sizes) != 1 or 0 in sizes:
            raise ValueError("Expected x and y with the same, non-zero number of examples. "
                             f"Received: {sorted(sizes)}")
    guard = NaNGuard()
    fit_kwargs = {"epochs": epochs, "initial_epoch": initial_epoch, "verbose": verbose,
                  "validation_data": validation_data,
                  "callbacks": [guard, *callbacks, *([StepProgbar()] if verbose else [])]}
    if fused:
        history = _fit_fused(model, x, y, batch_size, steps_per_execution, seed, shuffle, scan,
                             fit_kwargs)
    else:
        with _steps_per_call(model, steps_per_execution):
            history = _fit_in_order(model, x, y, batch_size, seed, shuffle, fit_kwargs)
    if guard.diverged_at is not None:
        epoch, batch, loss = guard.diverged_at
        notes = "".join(c.rollback_note() for c in callbacks if isinstance(c, TrainingCallback))
        raise TrainingDiverged(f"Training diverged: loss={loss} at epoch {epoch + 1}, batch "
                               f"{batch}. Nothing was saved{notes}.{' ' + advice if advice else ''}",
                               diverged_at=guard.diverged_at)
    return history


@contextlib.contextmanager
def _steps_per_call(model, steps):
    """`model.steps_per_execution = steps` inside (None: as compiled), restored afterwards."""
    before = model.steps_per_execution
    if steps is None or steps == before:
        yield
        return
    model.steps_per_execution, model.train_function = steps, None
    try:
        yield
    finally:
        model.steps_per_execution, model.train_function = before, None


def _fit_in_order(model, x, y, batch_size, seed, shuffle, fit_kwargs):
    """`model.fit` with the data order of `fit_model`'s docstring."""
    if y is None:  # a dataset: its own batches and order
        return model.fit(x, **fit_kwargs)
    if not shuffle:
        return model.fit(x, y, batch_size=batch_size, shuffle=False, **fit_kwargs)
    ordered = backend.epoch_ordered_batches(x, y, batch_size, seed)
    if ordered is None:  # Keras's own shuffle draws a new order every epoch on this backend
        return model.fit(x, y, batch_size=batch_size, shuffle=True, **fit_kwargs)
    batches, tracker = ordered
    fit_kwargs = {**fit_kwargs, "callbacks": [tracker, *fit_kwargs["callbacks"]]}
    return model.fit(batches, shuffle=False, **fit_kwargs)


def _fit_fused(model, x, y, batch_size, steps_per_call, seed, shuffle, scan, fit_kwargs):
    """The fused fit (see `training.fused`): scanned chunks on JAX on an accelerator, else
    `fit` with `steps_per_call` steps per call (None: a whole epoch on an accelerator)."""
    steps_per_call = check_int("steps_per_call", steps_per_call, minimum=1, allow_none=True)
    if y is None:
        raise ValueError("Expected arrays x and y for fused training. Received: y=None")
    if getattr(model, "optimizer", None) is None:
        raise ValueError("Expected a compiled model. Call model.compile(...) first.")
    if keras.distribution.distribution() is not None:
        raise ValueError("Fused training runs on one device; train data-parallel "
                         "(distribute=True) without fused.")
    x, y = np.asarray(x, "float32"), np.asarray(y)
    if len(x) < batch_size:
        raise ValueError(f"Expected at least one full batch. Received: {len(x)} examples, "
                         f"batch_size={batch_size}")
    if scan and not backend.supports_scan():
        raise ValueError(f"Expected scan=None or False on the {backend.name()} backend: "
                         "scanning needs JAX.")
    if scan is None:
        scan = backend.supports_scan() and backend.has_accelerator()
    if not scan:  # fit's own loop over the steps of a call (compiled into one on TensorFlow)
        # A whole epoch per call only on an accelerator: on a CPU it bought nothing on JAX
        # (0.995x) and cost TensorFlow a third (0.67x) in `speed.py --compare-unfused`.
        whole_epoch = -(-len(x) // batch_size) if backend.has_accelerator() else None
        with _steps_per_call(model, steps_per_call or whole_epoch):
            return _fit_in_order(model, x, y, batch_size, seed, shuffle, fit_kwargs)
    chunks = DeviceChunks(x, y, batch_size, steps_per_call, shuffle=shuffle, seed=seed)
    with scanned_steps(model, (x[:batch_size], y[:batch_size])):
        return model.fit(chunks, **fit_kwargs)
