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

Example:
    >>> history = fit_fused(model, x_train, y_train, batch_size=512, epochs=10,
    ...                     steps_per_call=None, seed=0)  # None: one call per epoch
"""

import keras
import numpy as np

from keras_seminar import backend


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


def fit_fused(model, x, y, batch_size, epochs, steps_per_call=None, seed=None, shuffle=True,
              scan=None, **fit_kwargs):
    """`model.fit` with the data resident on the device and `steps_per_call` steps per call.

    Args:
        model: a compiled Keras model (not compiled with `steps_per_execution` > 1).
        x, y: training images and labels (NumPy).
        batch_size, epochs: as in `fit`.
        steps_per_call: batches per compiled call; None for one call per epoch.
        seed: seeds the per-epoch shuffles.
        shuffle: reshuffle every epoch.
        scan: fold each chunk with `jax.lax.scan` (JAX only). None: on an accelerator only.
        **fit_kwargs: passed to `fit` (`callbacks`, `validation_data`, `verbose`, ...).

    Returns:
        The `History` of `fit`.
    """
    for arg, value in (("batch_size", batch_size), ("epochs", epochs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"Expected {arg} to be a positive integer. Received: {arg}={value!r}")
    if steps_per_call is not None and (isinstance(steps_per_call, bool) or not isinstance(steps_per_call, int) or steps_per_call < 1):
        raise ValueError(f"Expected steps_per_call to be a positive integer or None. Received: steps_per_call={steps_per_call!r}")
    if getattr(model, "optimizer", None) is None:
        raise ValueError("Expected a compiled model. Call model.compile(...) first.")
    if keras.distribution.distribution() is not None:
        raise ValueError("Fused training runs on one device; use --distribute without --fused.")
    x = np.asarray(x, "float32")
    y = np.asarray(y)
    if len(x) < batch_size:
        raise ValueError(f"Expected at least one full batch. Received: {len(x)} examples, batch_size={batch_size}")
    if scan and backend.name() != "jax":
        raise ValueError(f"Expected scan=None or False on the {backend.name()} backend: scanning needs JAX.")
    if scan is None:
        scan = backend.name() == "jax" and backend.has_accelerator()
    if not scan:  # fit's own loop over steps_per_execution steps (compiled into one on TF)
        before = model.steps_per_execution
        # A whole epoch per execution only on an accelerator: on a CPU it bought nothing on
        # JAX (0.995x) and cost TensorFlow a third (0.67x) in `speed.py --compare-unfused`.
        whole_epoch = -(-len(x) // batch_size) if backend.has_accelerator() else before
        model.steps_per_execution = steps_per_call or whole_epoch
        model.train_function = None
        try:
            if shuffle:  # a new order every epoch on TensorFlow too (backend.fit_reshuffled)
                return backend.fit_reshuffled(model, x, y, batch_size, seed, epochs=epochs, **fit_kwargs)
            return model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, **fit_kwargs)
        finally:
            model.steps_per_execution, model.train_function = before, None
    chunk_step = backend.scanned_train_step(model)
    chunks = DeviceChunks(x, y, batch_size, steps_per_call, shuffle=shuffle, seed=seed)
    # Build the loss, metrics and optimizer from one ordinary batch, since fit would otherwise
    # try to trace the model on a (K, batch, ...) chunk.
    model._symbolic_build(data_batch=(x[:batch_size], y[:batch_size]))
    model.train_step = chunk_step  # an instance attribute: the class's step is untouched
    model.train_function = None
    try:
        return model.fit(chunks, epochs=epochs, **fit_kwargs)
    finally:
        del model.train_step
        model.train_function = None
