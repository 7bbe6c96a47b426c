import os

import keras
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from keras_seminar.callbacks import GradientNormMonitor
from keras_seminar.callbacks.gradient_norms import gradient_norms, probe_gradients


def _linear_model(kernel, bias):
    model = keras.Sequential([keras.Input((kernel.shape[0],)), keras.layers.Dense(kernel.shape[1], name="lin")])
    model.layers[0].set_weights([kernel, bias])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_probe_gradient_norms_match_numpy(rng):
    x = rng.normal(size=(8, 4)).astype("float32")
    y = rng.normal(size=(8, 3)).astype("float32")
    w = rng.normal(size=(4, 3)).astype("float32")
    b = rng.normal(size=(3,)).astype("float32")
    model = _linear_model(w, b)
    loss, grads = probe_gradients(model, x, y)
    residual = x.astype(np.float64) @ w + b - y  # MSE = mean over all N*3 entries
    dw = 2.0 / residual.size * x.T @ residual
    db = 2.0 / residual.size * residual.sum(0)
    np.testing.assert_allclose(loss, np.mean(residual**2), rtol=1e-5)
    np.testing.assert_allclose(grads[0], dw, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(grads[1], db, rtol=1e-4, atol=1e-6)
    total, per_layer = gradient_norms(model.trainable_variables, grads, prefix=f"{model.name}/")
    assert list(per_layer) == ["lin"]
    np.testing.assert_allclose(per_layer["lin"], np.sqrt(np.sum(dw**2) + np.sum(db**2)), rtol=1e-4)
    np.testing.assert_allclose(total, per_layer["lin"], rtol=1e-12)


def _classifier(zero=False):
    init = "zeros" if zero else "glorot_uniform"
    model = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(5, activation="relu", kernel_initializer=init, name="hidden"),
        keras.layers.Dense(3, activation="softmax", kernel_initializer=init, name="out")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_monitor_history_files_and_events(tmp_path, rng):
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.integers(0, 3, 64)
    monitor = GradientNormMonitor(x[:16], y[:16], every_n_steps=2, log_dir=str(tmp_path))
    model = _classifier()
    for _ in range(2):  # a second fit starts a fresh history
        model.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, callbacks=[monitor], verbose=0)
    h = monitor.history
    # 3 steps/epoch x 2 epochs (steps 7-12 in the second fit): the first step, every 2nd, epoch ends
    assert h["steps"] == [7, 8, 9, 10, 12] and len(h["global_norm"]) == 5
    assert set(h["layer_norms"]) == {"hidden", "out"} and len(h["val_error"]) == 2
    assert all(0 <= e <= 1 for e in h["val_error"]) and all(g > 0 for g in h["global_norm"])
    np.testing.assert_allclose(h["global_norm"], np.sqrt(np.sum(
        [np.square(v) for v in h["layer_norms"].values()], axis=0)), rtol=1e-9)
    assert os.path.getsize(tmp_path / "gradient_norms.png") > 1000
    saved = np.load(tmp_path / "gradient_norms.npz")
    np.testing.assert_allclose(saved["global_norm"], h["global_norm"])
    events = EventAccumulator(str(tmp_path / "train"))
    events.Reload()
    # Per epoch, at the epoch's last measurement (steps 3, 6 | 9, 12), on Keras's epoch axis.
    logged = events.Scalars("gradient_norm/global")
    assert [e.step for e in logged] == [0, 1, 0, 1]
    np.testing.assert_allclose([e.value for e in logged][2:], [h["global_norm"][i] for i in (2, 4)],
                               rtol=1e-6)


def test_short_run_gets_norms_every_epoch(tmp_path, rng):
    """2 steps with the default every_n_steps=100: the first step and the epoch end are measured."""
    x = rng.normal(size=(32, 6)).astype("float32")
    y = rng.integers(0, 3, 32)
    monitor = GradientNormMonitor(x[:16], y[:16], log_dir=str(tmp_path))
    _classifier().fit(x, y, batch_size=16, epochs=1, callbacks=[monitor], verbose=0)
    assert monitor.history["steps"] == [1, 2]
    events = EventAccumulator(str(tmp_path / "train"))
    events.Reload()
    assert {"gradient_norm/global", "gradient_norm/hidden", "gradient_norm/out"} <= set(events.Tags()["scalars"])
    assert [e.step for e in events.Scalars("gradient_norm/hidden")] == [0]  # one epoch, one point


def test_steps_counted_with_steps_per_execution(rng):
    """With 2 steps per call, batch ends come at steps 2 and 4: measured at 2 (first) and 4
    (every 3 steps crossed), not again at the epoch end."""
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.integers(0, 3, 64)
    model = _classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", steps_per_execution=2)
    monitor = GradientNormMonitor(x[:16], y[:16], every_n_steps=3)
    model.fit(x, y, batch_size=16, epochs=1, callbacks=[monitor], verbose=0)
    assert monitor.history["steps"] == [2, 4]


def test_zero_weights_give_finite_norms(rng):
    x = rng.normal(size=(16, 6)).astype("float32")
    y = rng.integers(0, 3, 16)
    monitor = GradientNormMonitor(x, y, every_n_steps=1)
    _classifier(zero=True).fit(x, y, batch_size=8, epochs=1, callbacks=[monitor], verbose=0)
    assert np.all(np.isfinite(monitor.history["global_norm"]))
    assert all(np.all(np.isfinite(v)) for v in monitor.history["layer_norms"].values())


def test_batch_size_draws_a_fresh_batch_each_time(rng):
    """With batch_size, each measurement is the norm of one random minibatch's gradient: the
    weights are frozen (learning rate 0), so only the draw changes the norm; the same seed
    gives the same draws."""
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.integers(0, 3, 64)
    runs = []
    for seed in (0, 0, 1):
        keras.utils.set_random_seed(7)
        model = _classifier()
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
        monitor = GradientNormMonitor(x, y, every_n_steps=1, batch_size=8, seed=seed)
        model.fit(x, y, batch_size=16, epochs=1, callbacks=[monitor], verbose=0)
        runs.append(monitor.history["global_norm"])
    assert len(runs[0]) == 4 and len(set(np.round(runs[0], 6))) == 4
    np.testing.assert_allclose(runs[0], runs[1])
    assert not np.allclose(runs[0], runs[2])
    whole = GradientNormMonitor(x, y, every_n_steps=1)
    keras.utils.set_random_seed(7)
    model = _classifier()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=1, callbacks=[whole], verbose=0)
    assert len(set(np.round(whole.history["global_norm"], 6))) == 1


def test_bad_arguments(rng):
    x, y = np.zeros((4, 6), "float32"), np.zeros(4)
    with pytest.raises(ValueError, match="every_n_steps=0"):
        GradientNormMonitor(x, y, every_n_steps=0)
    with pytest.raises(ValueError, match="len\\(y\\)=3"):
        GradientNormMonitor(x, y[:3])
    with pytest.raises(ValueError, match="batch_size=5"):
        GradientNormMonitor(x, y, batch_size=5)
    with pytest.raises(ValueError, match="batch_size=0"):
        GradientNormMonitor(x, y, batch_size=0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="compiled model"):
        probe_gradients(model, x, y)
