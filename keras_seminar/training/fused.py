"""Fused training: the training set resident on the device and many steps per compiled call.

Plain `model.fit(x, y)` slices each batch out of host memory with NumPy, copies it to the
accelerator and dispatches one compiled step per batch. For the small, fast models of this
seminar those per-batch host round trips, not the GPU, set the pace. `fit_fused` keeps the
(float32) training set on the device, shuffles and slices it there, and runs `steps_per_call`
batches per compiled call (`jax.lax.scan` on JAX; TensorFlow's own fused `steps_per_execution`),
while staying a normal `model.fit`: callbacks, validation, TensorBoard, `AtomicBackupAndRestore`
and `History` work as usual, once per call instead of once per batch.

With JAX on an accelerator each epoch uses `len(x) // batch_size` full batches of a fresh
permutation: the `len(x) % batch_size` examples left over change every epoch, as with
`drop_remainder`. On TensorFlow (whose tf.data already feeds the device and whose
`steps_per_execution` is already one compiled loop) and on a CPU, fused training is `fit` with
`steps_per_execution` = `steps_per_call` (default: a whole epoch on an accelerator, the
model's own on a CPU), using every example: XLA:CPU runs a convolution inside
a compiled loop about 20x slower than on its own (measured: the TF-tutorial CNN, 2048 images,
batch 256, JAX 0.7.1 on 2 CPU cores: 64 s an epoch scanned, 2.9 s plain; `scan=True` forces it).

This module holds the pieces (`DeviceChunks`, `scanned_steps`); the training engine
(`training.engine.fit_model(..., fused=True)`, or `keras_seminar.fused.fit_fused`) runs the fit.

Example:
    >>> history = fit_fused(model, x_train, y_train, batch_size=512, epochs=10,
    ...                     steps_per_call=None, seed=0)  # None: one call per epoch
"""

import contextlib

import keras
import numpy as np

from keras_seminar import backend

__all__ = ["DeviceChunks", "scanned_steps"]


class DeviceChunks(keras.utils.PyDataset):
    """Chunks `(x[K, batch, ...], y[K, batch])` of a device-resident data set, reshuffled per epoch.

    Args:
        x, y: the training arrays; copied to the device once.
        batch_size: examples per step.
        steps_per_call: K, batches per chunk (the last chunk of an epoch may be shorter);
            None for the whole epoch in one chunk.
        shuffle: draw a new permutation each epoch (False keeps the order, for tests).
        seed: seeds the permutations.
    """

    def __init__(self, x, y, batch_size, steps_per_call=None, shuffle=True, seed=None):
        super().__init__()
        if len(x) != len(y):
            raise ValueError(f"Expected as many labels as images. Received: {len(x)} images, {len(y)} labels")
        self.steps = len(x) // batch_size
        if self.steps < 1:
            raise ValueError(f"Expected at least one full batch. Received: {len(x)} examples, batch_size={batch_size}")
        self.batch_size = batch_size
        self.steps_per_call = min(steps_per_call or self.steps, self.steps)
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._x = keras.ops.convert_to_tensor(np.asarray(x, "float32"))
        self._y = keras.ops.convert_to_tensor(np.asarray(y))
        self.on_epoch_end()

    @property
    def num_batches(self):
        return -(-self.steps // self.steps_per_call)

    def on_epoch_end(self):
        n = self.steps * self.batch_size
        order = self._rng.permutation(len(self._y))[:n] if self.shuffle else np.arange(n)
        self._order = keras.ops.convert_to_tensor(order.astype("int32"))

    def __getitem__(self, index):
        first = index * self.steps_per_call
        k = min(self.steps_per_call, self.steps - first)
        idx = self._order[first * self.batch_size:(first + k) * self.batch_size]
        x = keras.ops.take(self._x, idx, axis=0)
        y = keras.ops.take(self._y, idx, axis=0)
        return (keras.ops.reshape(x, (k, self.batch_size, *x.shape[1:])),
                keras.ops.reshape(y, (k, self.batch_size, *y.shape[1:])))


@contextlib.contextmanager
def scanned_steps(model, first_batch):
    """Inside, `model.fit(DeviceChunks(...))` runs each chunk as one `jax.lax.scan` call.

    Builds the loss, metrics and optimizer from `first_batch`, one ordinary `(x, y)` batch
    (fit would otherwise trace the model on a `(K, batch, ...)` chunk), and swaps in
    `backend.scanned_train_step` as an instance attribute: the class's step is untouched and
    restored on the way out.
    """
    chunk_step = backend.scanned_train_step(model)
    model._symbolic_build(data_batch=first_batch)
    model.train_step = chunk_step
    model.train_function = None
    try:
        yield
    finally:
        del model.train_step
        model.train_function = None
