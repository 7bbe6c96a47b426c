import os

import keras
import numpy as np
import pytest

from keras_seminar.callbacks import InformationPlane
from keras_seminar.callbacks.information_plane import (
    binned_mutual_information,
    discretize,
    entropy,
    kde_mutual_information,
)


def test_entropy_of_uniform_symbols():
    assert entropy(np.repeat(np.arange(8), 5)) == pytest.approx(3.0)
    assert entropy(np.zeros((10, 4))) == 0.0  # rows are symbols: one symbol


def test_t_equal_to_y_gives_h_y():
    y = np.repeat(np.arange(4), 25)
    ixt, ity = binned_mutual_information(y[:, None].astype(float), y, bins=30)
    assert ixt == pytest.approx(2.0) and ity == pytest.approx(2.0)  # log2(4)
    ixt, ity = binned_mutual_information(np.eye(4)[y], np.eye(4)[y])  # one-hot T and Y
    assert ixt == pytest.approx(2.0) and ity == pytest.approx(2.0)


def test_t_independent_of_y_gives_about_zero(rng):
    y = rng.integers(0, 4, 20000)
    t = rng.integers(0, 4, (20000, 1)).astype(float)
    ixt, ity = binned_mutual_information(t, y, bins=4)
    assert ixt == pytest.approx(2.0, abs=0.01)
    assert 0.0 <= ity < 0.005  # finite-sample bias is about 9 / (2 N ln 2) = 3e-4 bits


def test_binned_i_xt_is_entropy_of_binned_t(rng):
    t = rng.random((500, 2))
    y = rng.integers(0, 2, 500)
    ixt, ity = binned_mutual_information(t, y, bins=3, value_range=(0.0, 1.0))
    cells = np.minimum((t * 3).astype(int), 2)  # independent binning: 3 equal bins over [0, 1]
    _, counts = np.unique(cells, axis=0, return_counts=True)
    p = counts / counts.sum()
    assert ixt == pytest.approx(-np.sum(p * np.log2(p)))
    assert 0.0 <= ity <= 1.0


def test_constant_and_zero_activations_give_zero_not_nan():
    y = np.arange(10) % 2
    assert discretize(np.zeros((10, 3))).max() == 0
    assert binned_mutual_information(np.zeros((10, 3)), y) == (0.0, 0.0)
    ixt, ity = kde_mutual_information(np.zeros((10, 3)), y)
    assert ixt == pytest.approx(0.0, abs=1e-12) and ity == pytest.approx(0.0, abs=1e-12)


def test_kde_on_separated_clusters_gives_h_y():
    y = np.repeat(np.arange(4), 10)
    ixt, ity = kde_mutual_information(10.0 * np.eye(4)[y], y, noise_variance=1e-3)
    assert ixt == pytest.approx(2.0, abs=1e-6) and ity == pytest.approx(2.0, abs=1e-6)


def _model():
    model = keras.Sequential([
        keras.Input((5,)),
        keras.layers.Dense(6, activation="tanh", name="h1"),
        keras.layers.Dense(4, activation="relu", name="h2"),
        keras.layers.Dense(3, activation="softmax", name="out")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


@pytest.mark.parametrize("estimator", ["binning", "kde"])
def test_callback_history_and_files(tmp_path, rng, estimator):
    x, y = rng.normal(size=(60, 5)).astype("float32"), rng.integers(0, 3, 60)
    plane = InformationPlane(["h1", "h2"], x, y, bins=10, estimator=estimator, log_dir=str(tmp_path))
    _model().fit(x, y, epochs=2, batch_size=30, callbacks=[plane], verbose=0)
    ixt, ity = np.array(plane.history["I_XT"]), np.array(plane.history["I_TY"])
    assert ixt.shape == ity.shape == (2, 2)
    assert np.all(np.isfinite(ixt)) and np.all(ixt <= np.log2(60) + 1e-9) and np.all(ity <= ixt + 1e-9)
    saved = np.load(tmp_path / "information_plane.npz")
    np.testing.assert_allclose(saved["I_TY"], ity)
    assert saved["layers"].tolist() == ["h1", "h2"]
    assert os.path.getsize(tmp_path / "information_plane.png") > 1000


def test_default_layers_and_bad_arguments(rng):
    x, y = rng.normal(size=(8, 5)).astype("float32"), rng.integers(0, 3, 8)
    plane = InformationPlane(None, x, y)
    plane.set_model(_model())
    plane.on_train_begin()
    assert plane.layer_names == ["h1", "h2"]
    with pytest.raises(ValueError, match="estimator='histogram'"):
        InformationPlane(["h1"], x, y, estimator="histogram")
    with pytest.raises(ValueError, match="bins=1"):
        InformationPlane(["h1"], x, y, bins=1)
    with pytest.raises(ValueError, match="layers='h1'"):
        InformationPlane("h1", x, y)
    with pytest.raises(ValueError, match="noise_variance=0"):
        kde_mutual_information(x, y, noise_variance=0)
    missing = InformationPlane(["nope"], x, y)
    missing.set_model(_model())
    with pytest.raises(ValueError, match="nope"):
        missing.on_train_begin()
