import os
import warnings

import keras
import numpy as np
import pytest

from keras_seminar.callbacks import InformationPlane, _information
from keras_seminar.callbacks.information_plane import (
    binned_mutual_information,
    discretize,
    entropy,
    estimate_information,
    is_saturated,
    kde_mutual_information,
    random_control,
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


def test_kde_bound_has_its_known_values(rng):
    # 8 tight, far-apart clusters of 25 points: log2(8) = 3 bits about X; labels = cluster mod 2: 1 bit about Y
    cluster = np.repeat(np.arange(8), 25)
    t = 50.0 * np.eye(8)[cluster] + 1e-4 * rng.normal(size=(200, 8))
    ixt, ity = kde_mutual_information(t, cluster % 2, noise_variance=0.1)
    assert ixt == pytest.approx(3.0, abs=1e-3) and ity == pytest.approx(1.0, abs=1e-3)
    assert kde_mutual_information(np.ones((50, 3)), cluster[:50] % 2, noise_variance=0.1) == (0.0, 0.0)
    # two points a distance d apart: -log2((1 + exp(-d^2 / 2 var)) / 2), here d^2 / 2 var = 1
    ixt, ity = kde_mutual_information(np.array([[0.0], [np.sqrt(0.2)]]), [0, 1], noise_variance=0.1)
    assert ixt == pytest.approx(1 - np.log2(1 + np.exp(-1)), abs=1e-5) and ity == pytest.approx(ixt, abs=1e-5)


def test_kde_matches_the_formula_of_saxe_et_al(rng):
    """Eqs. 7-10 of Saxe et al. (2018, App. B.1) written out in float64, against the blocked float32 code."""
    t, y, var = rng.normal(size=(300, 4)), rng.integers(0, 3, 300), 0.5

    def h(a):  # -1/P sum_i log 1/P sum_j exp(-|h_i - h_j|^2 / 2 var), nats
        d = ((a[:, None, :] - a[None, :, :]) ** 2).sum(-1)
        return -np.mean(np.log(np.mean(np.exp(-d / (2 * var)), axis=1)))

    h_given_y = sum(np.mean(y == c) * h(t[y == c]) for c in range(3))
    ixt, ity = kde_mutual_information(t, y, noise_variance=var)
    assert ixt == pytest.approx(h(t) / np.log(2), rel=1e-5)
    assert ity == pytest.approx((h(t) - h_given_y) / np.log(2), rel=1e-4, abs=1e-5)
    blocked = _information._kernel_sums(t.astype("float32"), y, var, block=7)  # rows in blocks: same sums
    np.testing.assert_allclose(blocked[0], _information._kernel_sums(t.astype("float32"), y, var)[0], rtol=1e-6)


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
    with pytest.raises(ValueError, match="Unknown estimator .histogram."):
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


def _tanh_model(width, stddev):
    model = keras.Sequential([
        keras.Input((5,)),
        keras.layers.Dense(width, activation="tanh", name="h",
                           kernel_initializer=keras.initializers.RandomNormal(stddev=stddev, seed=0)),
        keras.layers.Dense(2, activation="softmax", name="out")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def _two_tanh_layers(first, second):
    """5 -> tanh `a` (width `first`) -> tanh `b` (width `second`) -> softmax, compiled."""
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(first, activation="tanh", name="a"),
                              keras.layers.Dense(second, activation="tanh", name="b"),
                              keras.layers.Dense(2, activation="softmax", name="out")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def _fit_plane(model, x, y, **options):
    plane = InformationPlane(None, x, y, **options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, epochs=2, batch_size=len(x), callbacks=[plane], verbose=0)
    return plane, [str(w.message) for w in caught if "InformationPlane" in str(w.message)]


def test_saturation_warns_once_on_a_wide_layer_with_few_samples(rng):
    x, y = rng.normal(size=(40, 5)).astype("float32"), rng.integers(0, 2, 40)
    plane, messages = _fit_plane(_tanh_model(64, 1.0), x, y, bins=30)
    assert plane.history["saturated"] == [[True], [True]]
    assert plane.history["I_XT"][0][0] == pytest.approx(np.log2(40))
    assert len(messages) == 1  # once per fit, not every epoch
    assert "saturated at epoch 0, 1 of 1 layers ('h' width 64)" in messages[0]
    assert "fewer bins" in messages[0] and "estimator='kde'" in messages[0]
    assert "narrower layer" in messages[0] and "narrow layers instead" not in messages[0]


def test_saturation_warns_once_for_all_layers_and_says_wide_layers_need_narrow_ones(rng):
    x, y = rng.normal(size=(40, 5)).astype("float32"), rng.integers(0, 2, 40)
    model = _two_tanh_layers(200, 100)
    plane, messages = _fit_plane(model, x, y, bins=30)
    assert plane.history["saturated"] == [[True, True], [True, True]]
    assert len(messages) == 1, messages  # one message for both layers and both epochs
    assert "2 of 2 layers ('a' width 200, 'b' width 100)" in messages[0]
    assert "measure the narrow layers instead, e.g. layers=['fc1'] with bins=3" in messages[0]


def test_no_warning_on_a_narrow_saturating_tanh_layer_with_fixed_bins(rng):
    x, y = rng.normal(size=(500, 5)).astype("float32"), rng.integers(0, 2, 500)
    plane, messages = _fit_plane(_tanh_model(3, 10.0), x, y, bins=30, bin_range=(-1, 1))
    assert messages == [] and plane.history["saturated"] == [[False], [False]]
    assert plane.history["I_XT"][-1][0] < np.log2(500) - 1  # tanh at +-1: few distinct codes


def test_fixed_bin_range_is_not_re_ranged(rng):
    t, y = rng.uniform(-1, 1, (2000, 2)), rng.integers(0, 2, 2000)
    own = [binned_mutual_information(s * t, y, bins=30)[0] for s in (1.0, 0.5)]
    fixed = [binned_mutual_information(s * t, y, bins=30, value_range=(-1, 1))[0] for s in (1.0, 0.5)]
    assert own[0] == pytest.approx(own[1])  # re-ranged per call: blind to the scale
    assert fixed[1] < fixed[0] - 1.5  # fixed bins: half the range, about 2 bits fewer
    assert estimate_information(0.5 * t, y, bins=30, bin_range=(-1, 1))[0] == fixed[1]
    with pytest.raises(ValueError, match="bin_range=\\(1, -1\\)"):
        InformationPlane(["h"], t, y, bin_range=(1, -1))
    with pytest.raises(ValueError, match="bin_range='tanh'"):
        estimate_information(t, y, bin_range="tanh")


def _twelve_bit_task():
    bits = ((np.arange(4096)[:, None] >> np.arange(12)) & 1).astype("float32")
    x = 2 * bits - 1  # all 4,096 12-bit inputs, as in Shwartz-Ziv & Tishby (2017)
    return x, (x[:, :6].sum(1) > x[:, 6:].sum(1)).astype("int32")  # more ones in the first half


def test_trained_net_differs_from_the_random_control():
    x, y = _twelve_bit_task()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(10, activation="tanh"),
                              keras.layers.Dense(3, activation="tanh", name="t"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=256, epochs=10, verbose=0)
    assert history.history["accuracy"][-1] > 0.95
    t = keras.Model(model.inputs, model.get_layer("t").output).predict(x, verbose=0)
    options = {"bins": 30, "bin_range": (-1, 1)}
    ixt, ity = estimate_information(t, y, **options)
    control_ixt, control_ity = random_control(t, y, seed=0, **options)
    h_y = entropy(y)
    assert ity > 0.9 * h_y and ixt < np.log2(4096) - 4  # fits Y with few codes
    assert control_ixt > ixt + 4 and control_ity < ity - 0.1  # random: many codes, less about Y
    assert not is_saturated(ixt, ity, y) and random_control(t, y, seed=0, **options) == (control_ixt, control_ity)


def test_control_recorded_beside_every_estimate(tmp_path, rng):
    x, y = rng.normal(size=(64, 5)).astype("float32"), rng.integers(0, 2, 64)
    plane, _ = _fit_plane(_tanh_model(3, 1.0), x, y, bins=8, bin_range=(-1, 1), control=True)
    assert np.array(plane.history["control_I_XT"]).shape == (2, 1)
    assert np.array(plane.history["control_real_I_TY"]).shape == (2, 1)  # random activations, real labels
    plane.save(str(tmp_path))
    saved = np.load(tmp_path / "information_plane.npz")
    assert saved["control_I_TY"].shape == saved["control_real_I_TY"].shape == (2, 1)
    assert saved["saturated"].dtype == bool
    with pytest.raises(ValueError, match="control='yes'"):
        InformationPlane(["h"], x, y, control="yes")


def test_random_control_with_real_or_permuted_labels(rng):
    t, y = rng.normal(size=(400, 2)), rng.integers(0, 2, 400)
    options = {"bins": 4, "bin_range": (-2, 2)}
    shuffled, real = random_control(t, y, seed=3, **options), random_control(t, y, seed=3, shuffle_labels=False, **options)
    assert shuffled[0] == real[0]  # the same random activations for both
    noise = np.random.default_rng(3).standard_normal(t.shape) * t.std(axis=0) + t.mean(axis=0)
    assert real == estimate_information(noise, y, **options)  # ... with the labels as they are


def test_max_width_keeps_the_narrow_hidden_layers_or_all_when_none_is(rng):
    x, y = rng.normal(size=(40, 5)).astype("float32"), rng.integers(0, 2, 40)
    model = _two_tanh_layers(200, 4)
    assert _fit_plane(model, x, y, bins=3, max_width=40)[0].layer_names == ["b"]
    assert _fit_plane(model, x, y, bins=3, max_width=2)[0].layer_names == ["a", "b"]
    with pytest.raises(ValueError, match="max_width=0"):
        InformationPlane(None, x, y, max_width=0)
