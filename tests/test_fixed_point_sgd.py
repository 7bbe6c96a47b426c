import keras
import numpy as np
import pytest

from keras_seminar.fixed_point_sgd import FixedPointSGD, fixed_point_mlp
from keras_seminar.layers import StochasticRounding

EPS = 2.0**-8


def _steps(rounding, grad, steps, n=4000, seed=0):
    """Values of an n-vector that starts at 0 after each of `steps` updates with a constant grad."""
    var = keras.Variable(np.zeros(n, "float32"))
    opt = FixedPointSGD(1.0, integer_bits=4, fractional_bits=8, rounding=rounding, seed=seed)
    g = np.full(n, grad, "float32")
    out = []
    for _ in range(steps):
        opt.apply([g], [var])
        out.append(keras.ops.convert_to_numpy(var))
    return out


def test_nearest_loses_updates_below_half_a_step():
    out = _steps("nearest", -0.3 * EPS, 5)  # each update is 0.3 of a grid step
    assert np.all(out[-1] == 0)
    big = _steps("nearest", -0.7 * EPS, 3)
    np.testing.assert_array_equal(big[-1], np.full(4000, 3 * EPS, "float32"))


def test_stochastic_keeps_small_updates_in_expectation_and_stays_on_grid():
    out = _steps("stochastic", -0.3 * EPS, 5)
    for w in out:
        np.testing.assert_array_equal(w / EPS, np.round(w / EPS))
    assert abs(out[-1].mean() / EPS - 1.5) < 0.1  # E = 5 * 0.3 steps
    moved_first = out[0] > 0
    moved_second = out[1] > out[0]
    # Fresh noise every step: which cells move changes (a frozen draw would repeat them).
    assert 0.15 < np.mean(moved_first & moved_second) / np.mean(moved_first) < 0.45


def test_clips_to_the_range():
    var = keras.Variable(np.array([1.9, -1.9], "float32"))
    FixedPointSGD(1.0, integer_bits=2, fractional_bits=4, rounding="nearest").apply(
        [np.array([-1.0, 1.0], "float32")], [var])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(var), [2 - 1 / 16, -2])


def test_trains_in_fit_and_config_roundtrip():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 5)).astype("float32"), rng.integers(0, 2, 64)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2, activation="softmax")])
    opt = FixedPointSGD(0.1, integer_bits=3, fractional_bits=6, rounding="stochastic", seed=1)
    model.compile(opt, "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    w = keras.ops.convert_to_numpy(model.layers[0].kernel)
    np.testing.assert_array_equal(w * 64, np.round(w * 64))
    again = FixedPointSGD.from_config(opt.get_config())
    assert (again.integer_bits, again.fractional_bits, again.rounding, again.seed) == (3, 6, "stochastic", 1)


def test_bad_args():
    with pytest.raises(ValueError, match="rounding='up'"):
        FixedPointSGD(rounding="up")
    with pytest.raises(ValueError, match="integer_bits=0"):
        FixedPointSGD(integer_bits=0)
    with pytest.raises(ValueError, match="fractional_bits=-2"):
        FixedPointSGD(fractional_bits=-2)


def test_importing_the_package_registers_it_for_loading():
    """A .keras file compiled with FixedPointSGD loads after a plain `import keras_seminar`."""
    import subprocess
    import sys

    code = ("import keras, keras_seminar; "
            "assert keras.saving.get_registered_object('keras_seminar>FixedPointSGD') is not None")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_fixed_point_mlp_rounds_every_dense_output_and_the_weights():
    model = fixed_point_mlp((8, 6), integer_bits=4, fractional_bits=12, rounding="nearest", learning_rate=0.1, seed=3)
    rounds = [layer for layer in model.layers if isinstance(layer, StochasticRounding)]
    assert [(r.name, r.integer_bits, r.fractional_bits, r.rounding, r.seed) for r in rounds] == [
        ("round1", 4, 12, "nearest", 300), ("round2", 4, 12, "nearest", 301), ("round3", 4, 12, "nearest", 302)]
    assert isinstance(model.optimizer, FixedPointSGD)
    assert (model.optimizer.integer_bits, model.optimizer.fractional_bits, model.optimizer.seed) == (4, 12, 3)
    out = keras.ops.convert_to_numpy(model(np.ones((2, 28, 28, 1), "float32")))
    assert out.shape == (2, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_fixed_point_mlp_without_fractional_bits_is_the_float32_control():
    model = fixed_point_mlp((8,), fractional_bits=None, learning_rate=0.05, input_shape=(4,), classes=3)
    assert not any(isinstance(layer, StochasticRounding) for layer in model.layers)
    assert type(model.optimizer) is keras.optimizers.SGD
    assert [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)] == [8, 3]


@pytest.mark.parametrize("kwargs, message", [
    (dict(hidden=(8, 0)), "hidden=\\(8, 0\\)"), (dict(hidden="8"), "hidden='8'"), (dict(classes=0), "classes=0"),
    (dict(learning_rate=-1.0), "learning_rate=-1.0"), (dict(seed="1"), "seed='1'"),
    (dict(fractional_bits=-1), "fractional_bits=-1"), (dict(rounding="up"), "rounding='up'")])
def test_fixed_point_mlp_bad_args(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fixed_point_mlp(**{"hidden": (8,), **kwargs})
