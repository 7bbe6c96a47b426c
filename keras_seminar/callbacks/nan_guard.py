"""Stops training on the first NaN/inf loss and remembers where it happened."""

import math

import keras


class NaNGuard(keras.callbacks.Callback):
    """Like `keras.callbacks.TerminateOnNaN`, but keeps `diverged_at` so callers can fail clearly.

    After `fit`, `guard.diverged_at` is None or `(epoch, batch, loss)`.
    """

    def on_train_begin(self, logs=None):
        self.diverged_at = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (self._epoch, batch, float(loss))
            self.model.stop_training = True
