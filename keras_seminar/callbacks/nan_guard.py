"""Stops training on the first NaN/inf loss and remembers where it happened."""

import math

import keras

__all__ = ["NaNGuard"]


class NaNGuard(keras.callbacks.Callback):
    """Like `keras.callbacks.TerminateOnNaN`, but keeps `diverged_at` so callers can fail clearly.

    After `fit`, `guard.diverged_at` is None or `(epoch, batch, loss)`. With
    `steps_per_execution` > 1 Keras reports only the last step of each call, so `batch` is then
    the range of steps that call ran, e.g. "1-16" (the epoch's last call ends at its last step,
    although Keras numbers it as if the call were full).
    """

    def on_train_begin(self, logs=None):
        self.diverged_at = None
        self._epoch, self._after = 0, -1

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._after = -1  # the last step seen in this epoch

    def on_train_batch_end(self, batch, logs=None):
        steps = (self.params or {}).get("steps")
        batch = min(batch, steps - 1) if steps else batch
        loss = (logs or {}).get("loss")
        first, self._after = self._after + 1, batch
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (self._epoch, batch if first >= batch else f"{first}-{batch}", float(loss))
            self.model.stop_training = True
