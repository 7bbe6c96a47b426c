import os

import keras
import numpy as np
import pytest

from keras_seminar.lr_finder import lr_range_test, suggest_learning_rate


def _model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_range_test_leaves_model_untouched_and_plots(tmp_path, rng):
    x = rng.normal(size=(256, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    model = _model()
    before = [w.copy() for w in model.get_weights()]
    result = lr_range_test(model, x, y, min_lr=1e-4, max_lr=10.0, steps=40, batch_size=32,
                           plot_path=str(tmp_path / "lr.png"))
    lrs = result["lrs"]
    assert 5 <= len(lrs) <= 40 and len(result["losses"]) == len(lrs) == len(result["smoothed"])
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], (10.0 / 1e-4) ** (1 / 39), rtol=1e-9)
    assert np.all(np.isfinite(result["losses"])) and 1e-4 <= result["suggested_lr"] <= 10.0
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 0
    assert os.path.getsize(tmp_path / "lr.png") > 1000


def test_suggestion_on_a_known_curve():
    lrs = np.logspace(-5, 0, 51)
    loss = 2.0 - np.tanh(2 * (np.log10(lrs) + 3)) + np.where(lrs > 0.1, 50 * (lrs - 0.1), 0)
    steepest, min_over_10 = suggest_learning_rate(lrs, loss)
    assert steepest == pytest.approx(1e-3)  # tanh is steepest at its centre, log10(lr) = -3
    assert min_over_10 == pytest.approx(lrs[np.argmin(loss)] / 10)


def test_bad_arguments(rng):
    x, y = np.zeros((8, 4), "float32"), np.zeros(8)
    model = _model()
    with pytest.raises(ValueError, match="min_lr=1.0, max_lr=0.1"):
        lr_range_test(model, x, y, min_lr=1.0, max_lr=0.1)
    with pytest.raises(ValueError, match="steps=1"):
        lr_range_test(model, x, y, steps=1)
    with pytest.raises(ValueError, match="smoothing=1"):
        lr_range_test(model, x, y, smoothing=1)
    with pytest.raises(ValueError, match="compiled model"):
        lr_range_test(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]), x, y)
