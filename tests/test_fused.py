"""Fused training (device-resident data, many steps per compiled call) is plain fit, faster."""

import keras
import numpy as np
import pytest

from keras_seminar import training
from keras_seminar.fused import DeviceChunks, fit_fused
from keras_seminar.training import TrainConfig, images_to_inputs


@pytest.fixture(scope="module")
def slice_(fashion):
    """1000 real Fashion-MNIST training images as float32 inputs."""
    return images_to_inputs(fashion.x_train[:1000]), fashion.y_train[:1000]


def _model(seed=1):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(32, activation="relu"),
        keras.layers.Dropout(0.2), keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _scan_options():
    """The default path on every backend, and on JAX the scanned one even on a CPU."""
    return [None, True] if keras.backend.backend() == "jax" else [None]


@pytest.mark.parametrize("scan", _scan_options())
def test_fused_equals_plain_fit(slice_, scan):
    x, y = slice_[0][:960], slice_[1][:960]  # whole batches: both paths see the same examples
    plain, fused = _model(), _model()
    h_plain = plain.fit(x, y, batch_size=64, epochs=2, shuffle=False, verbose=0)
    h_fused = fit_fused(fused, x, y, 64, 2, shuffle=False, scan=scan, verbose=0)
    for a, b in zip(plain.get_weights(), fused.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_plain.history["loss"], h_fused.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(h_plain.history["accuracy"], h_fused.history["accuracy"], rtol=1e-5)


@pytest.mark.parametrize("scan", _scan_options())
def test_chunks_with_a_short_last_one_train_every_step_and_restore_the_model(slice_, scan):
    x, y = slice_
    model = _model()
    history = fit_fused(model, x, y, 64, 2, steps_per_call=4, seed=0, verbose=0, scan=scan,
                        validation_data=(x[:200], y[:200]))
    per_epoch = len(x) // 64 if scan else -(-len(x) // 64)  # the scan drops the partial batch
    assert int(model.optimizer.iterations) == 2 * per_epoch  # 15 steps = 4 + 4 + 4 + 3 per epoch
    assert len(history.history["val_loss"]) == 2
    assert history.history["loss"][1] < history.history["loss"][0]
    assert "train_step" not in vars(model) and model.steps_per_execution == 1
    model.fit(x[:128], y[:128], batch_size=64, epochs=1, verbose=0)  # the plain path still works


def test_device_chunks_shapes_and_shuffles(slice_):
    x = np.arange(100, dtype="float32").reshape(100, 1, 1, 1)
    y = np.arange(100)
    chunks = DeviceChunks(x, y, batch_size=8, steps_per_call=5, seed=0)  # 12 steps: 5, 5, 2
    assert chunks.num_batches == 3
    shapes = [tuple(chunks[i][0].shape) for i in range(3)]
    assert shapes == [(5, 8, 1, 1, 1), (5, 8, 1, 1, 1), (2, 8, 1, 1, 1)]
    first = np.concatenate([keras.ops.convert_to_numpy(chunks[i][1]).ravel() for i in range(3)])
    assert len(set(first)) == 96 and set(first) <= set(range(100))  # a permutation, 4 left over
    np.testing.assert_array_equal(  # images and labels stay paired
        keras.ops.convert_to_numpy(chunks[0][0]).ravel(), keras.ops.convert_to_numpy(chunks[0][1]).ravel())
    chunks.on_epoch_end()
    second = np.concatenate([keras.ops.convert_to_numpy(chunks[i][1]).ravel() for i in range(3)])
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": 0}, "batch_size=0"),
    ({"epochs": 1.5}, "epochs=1.5"),
    ({"steps_per_call": 0}, "steps_per_call=0"),
    ({"batch_size": 5000}, "batch_size=5000"),
    pytest.param({"scan": True}, "scan=None or False", marks=pytest.mark.skipif(
        keras.backend.backend() == "jax", reason="JAX can scan")),
])
def test_bad_arguments(slice_, kwargs, match):
    args = {"batch_size": 64, "epochs": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        fit_fused(_model(), *slice_, **args)


def test_uncompiled_model_and_mismatched_labels(slice_):
    x, y = slice_
    with pytest.raises(ValueError, match="compile"):
        fit_fused(keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten()]), x, y, 64, 1)
    with pytest.raises(ValueError, match="1000 images, 999 labels"):
        DeviceChunks(x, y[:-1], 64)


def test_test_time_augmentation_averages_the_mirror_image(slice_):
    x, y = slice_[0][:64], slice_[1][:64]
    model = _model()
    plain = training.test_metrics(model, x, y)
    tta = training.test_metrics(model, x, y, tta=True)
    probs = (model.predict(x, verbose=0).astype("float64") + model.predict(x[:, :, ::-1], verbose=0)) / 2
    assert tta["accuracy"] == pytest.approx(np.mean(np.argmax(probs, -1) == y))
    assert tta["loss"] != pytest.approx(plain["loss"])


def test_train_fused_with_tta_and_evaluate_reproduces_the_card(tmp_path):
    result = training.train(TrainConfig(
        model="softmax", epochs=2, train_limit=1200, test_limit=300, fused=True, tta=True,
        steps_per_execution=4, runs_dir=str(tmp_path / "runs"), models_dir=str(tmp_path / "models"),
        verbose=0))
    assert result["fused"] and result["test_time_augmentation"] == "flip"
    assert result["history"]["loss"][1] < result["history"]["loss"][0]
    again = training.evaluate_saved(result["model_path"], limit=300)
    assert again["accuracy"] == pytest.approx(result["test"]["accuracy"], abs=1e-6)
    assert again["card_accuracy"] == result["test"]["accuracy"]


@pytest.mark.parametrize("kwargs, match", [
    ({"fused": True, "distribute": True}, "not both"),
    ({"fused": "yes"}, "fused='yes'"),
])
def test_bad_configs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


