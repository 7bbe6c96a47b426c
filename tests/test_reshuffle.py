"""Every epoch sees the training set in a new order, on every backend, drawn from the seed.

Keras on TensorFlow replays one permutation every epoch once a global seed is set
(tensorflow/tensorflow#26179); the package's training engine (`training.fit_model`) must not.
"""

import keras
import numpy as np
import pytest

from keras_seminar.errors import UsageError
from keras_seminar.training import fit_arrays, fit_model, recipe_for


def _first_batches(seed, epochs=3, n=64, batch_size=8):
    """The examples in each epoch's first batch, read off the kernel: with SGD at rate 1, no
    bias, a zero kernel, loss = sum of the outputs and example i = e_i, a step lowers exactly
    the kernel entries of the batch's examples."""
    x = np.zeros((n, n), "float32")
    x[np.arange(n), np.arange(n)] = 1.0  # example i is the unit vector e_i
    y = np.zeros(n, "int32")
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((n,))
    model = keras.Model(inputs, keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")(inputs))
    seen = []

    class Epochs(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                seen.append(keras.ops.convert_to_numpy(self.model.layers[-1].kernel)[:, 0].copy())

        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                seen[-1] = keras.ops.convert_to_numpy(self.model.layers[-1].kernel)[:, 0] - seen[-1]

    model.compile(keras.optimizers.SGD(1.0), loss=lambda y_true, y_pred: keras.ops.sum(y_pred))
    fit_model(model, x, y, batch_size=batch_size, seed=seed, epochs=epochs, callbacks=[Epochs()])
    return [tuple(np.flatnonzero(step < 0)) for step in seen]  # the examples a first batch held


def test_each_epoch_draws_a_new_order_and_the_seed_fixes_them():
    first = _first_batches(seed=3)
    assert all(len(batch) == 8 for batch in first)
    assert len(set(first)) == 3  # three epochs, three different first batches
    assert _first_batches(seed=3) == first  # the same seed, the same orders
    assert _first_batches(seed=4) != first


def test_fit_arrays_reshuffles_and_trains(fashion_small):
    x, y, xt, yt = fashion_small
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])
    history = fit_arrays(model, recipe_for("softmax", epochs=2, batch_size=64), x, y, seed=0)
    assert len(history.history["loss"]) == 2 and history.history["loss"][1] < history.history["loss"][0]


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": 0}, "batch_size=0"), ({"batch_size": 8, "seed": -1}, "seed=-1"),
    ({"batch_size": 8, "seed": 1.5}, "seed=1.5")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(UsageError, match=match):
        fit_model(None, np.zeros((4, 2)), np.zeros(4), **kwargs)


def test_mismatched_or_empty_data():
    with pytest.raises(ValueError, match=r"same, non-zero number of examples. Received: \[3, 4\]"):
        fit_model(None, np.zeros((4, 2)), np.zeros(3), batch_size=2)
    with pytest.raises(ValueError, match=r"Received: \[0\]"):
        fit_model(None, np.zeros((0, 2)), np.zeros(0), batch_size=2)
