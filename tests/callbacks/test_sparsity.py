import os

import keras
import numpy as np
import pytest

from keras_seminar.callbacks import SparsityMonitor
from keras_seminar.callbacks.sparsity import activation_sparsity, weight_sparsity


def _model(kernel, bias):
    model = keras.Sequential([
        keras.Input((kernel.shape[0],)),
        keras.layers.Dense(kernel.shape[1], activation="relu", name="hidden"),
        keras.layers.Dense(2, activation="softmax", name="out")])
    model.get_layer("hidden").set_weights([kernel, bias])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def test_numbers_on_hand_set_weights(tmp_path, rng):
    kernel = np.array([[0.0, 1.0, -1.0], [0.0, 2e-4, 0.5], [0.0, -1.0, 1e-5]], "float32")
    bias = np.array([-1.0, 0.0, 0.0], "float32")  # unit 0 is always -1 before ReLU: dead
    x = rng.normal(size=(32, 3)).astype("float32")
    model = _model(kernel, bias)
    monitor = SparsityMonitor(x, eps=1e-3, log_dir=str(tmp_path))
    monitor.set_model(model)
    monitor.on_train_begin()
    row = monitor.measure(0)
    assert row["weights"]["hidden"] == pytest.approx(5 / 9)  # three zeros, 2e-4 and 1e-5
    a = np.maximum(x @ kernel + bias, 0.0)
    assert row["activations"]["hidden"] == pytest.approx(np.mean(a < 1e-3))
    assert row["dead_units"]["hidden"] == pytest.approx(1 / 3)
    assert set(row["activations"]) == {"hidden"}  # the softmax output is not a hidden layer
    monitor.on_train_end()
    assert os.path.getsize(tmp_path / "sparsity.png") > 1000
    assert np.load(tmp_path / "sparsity.npz")["dead_units/hidden"].tolist() == [pytest.approx(1 / 3)]


def test_zero_model_is_fully_sparse_without_nan(rng):
    model = _model(np.zeros((3, 4), "float32"), np.zeros(4, "float32"))
    x, y = rng.normal(size=(16, 3)).astype("float32"), rng.integers(0, 2, 16)
    monitor = SparsityMonitor(x)
    model.fit(x, y, epochs=1, batch_size=16, callbacks=[monitor], verbose=0)
    assert monitor.history["dead_units"]["hidden"] == [1.0]
    assert monitor.history["activations"]["hidden"] == [1.0]
    assert all(np.isfinite(v).all() for v in monitor.history["weights"].values())


def test_helpers_and_bad_arguments():
    assert weight_sparsity(np.array([0.0, 1e-4, 1.0, -2.0]), 1e-3) == 0.5
    sparse, dead = activation_sparsity(np.array([[[0.0, 1.0]], [[0.0, 0.0]]]), 1e-3)
    assert (sparse, dead) == (0.75, 0.5)
    with pytest.raises(ValueError, match="eps=0"):
        SparsityMonitor(np.zeros((2, 3)), eps=0)
    with pytest.raises(ValueError, match="every_n_epochs=0"):
        SparsityMonitor(np.zeros((2, 3)), every_n_epochs=0)
    with pytest.raises(ValueError, match="probe_x"):
        SparsityMonitor(np.zeros((0, 3)))
