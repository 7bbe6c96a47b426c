import keras
import numpy as np
import pytest

from keras_seminar.schedules import CyclicalLearningRate


def _numpy_clr(step, base, top, step_size, mode, gamma):
    cycle = np.floor(1 + step / (2 * step_size))
    x = np.abs(step / step_size - 2 * cycle + 1)
    scale = {"triangular": np.ones_like(step), "triangular2": 1 / 2.0 ** (cycle - 1),
             "exp_range": gamma**step}[mode]
    return base + (top - base) * np.maximum(0, 1 - x) * scale


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_values_match_numpy_formula(mode):
    schedule = CyclicalLearningRate(1e-3, 1e-2, step_size=5, mode=mode, gamma=0.97)
    steps = np.arange(0, 41, dtype=np.float64)
    got = np.array([float(keras.ops.convert_to_numpy(schedule(s))) for s in steps])
    np.testing.assert_allclose(got, _numpy_clr(steps, 1e-3, 1e-2, 5, mode, 0.97), rtol=1e-5)
    assert got[0] == pytest.approx(1e-3) and got[5] == pytest.approx(
        1e-2 * (0.97**5 if mode == "exp_range" else 1) + 1e-3 * (1 - (0.97**5 if mode == "exp_range" else 1)))


def test_triangular2_halves_the_amplitude_and_huge_steps_stay_finite():
    schedule = CyclicalLearningRate(0.0 + 1e-4, 1.1e-3, step_size=10, mode="triangular2")
    peaks = [float(keras.ops.convert_to_numpy(schedule(s))) for s in (10, 30, 50)]
    np.testing.assert_allclose(np.diff(peaks, prepend=1e-4), [1e-3, -5e-4, -2.5e-4], rtol=1e-4)
    far = CyclicalLearningRate(1e-4, 1e-3, step_size=10, mode="exp_range", gamma=0.5)(1e7)
    assert float(keras.ops.convert_to_numpy(far)) == pytest.approx(1e-4)


def test_get_config_round_trip():
    schedule = CyclicalLearningRate(1e-4, 1e-2, 7, mode="exp_range", gamma=0.99, name="clr")
    clone = CyclicalLearningRate.from_config(schedule.get_config())
    assert clone.get_config() == schedule.get_config()
    restored = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert isinstance(restored, CyclicalLearningRate) and restored.mode == "exp_range"


def test_keras_file_round_trip_inside_optimizer(tmp_path, rng):
    schedule = CyclicalLearningRate(1e-3, 1e-1, step_size=2, mode="triangular2")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)  # 2 steps: the LR is now at its peak
    path = str(tmp_path / "clr.keras")
    model.save(path)
    loaded = keras.models.load_model(path)  # no custom_objects: the class is registered
    assert isinstance(loaded.optimizer._learning_rate, CyclicalLearningRate)
    assert loaded.optimizer._learning_rate.get_config() == schedule.get_config()
    assert float(keras.ops.convert_to_numpy(loaded.optimizer.learning_rate)) == pytest.approx(1e-1)


@pytest.mark.parametrize("kwargs, match", [
    ({"initial_learning_rate": 0.0}, "initial_learning_rate=0.0"),
    ({"maximal_learning_rate": 1e-5}, "maximal_learning_rate=1e-05"),
    ({"step_size": 0}, "step_size=0"),
    ({"step_size": 2.5}, "step_size=2.5"),
    ({"mode": "sine"}, "mode='sine'"),
    ({"gamma": 1.5}, "gamma=1.5"),
    ({"maximal_learning_rate": float("inf")}, "maximal_learning_rate=inf"),
    ({"initial_learning_rate": "1e-3"}, "initial_learning_rate='1e-3'"),
])
def test_bad_arguments(kwargs, match):
    args = {"initial_learning_rate": 1e-4, "maximal_learning_rate": 1e-2, "step_size": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        CyclicalLearningRate(**args)


def test_numpy_numbers_are_accepted():
    schedule = CyclicalLearningRate(np.float32(1e-3), np.float64(1e-2), np.int64(4), gamma=np.float32(1))
    assert schedule.get_config()["step_size"] == 4 and type(schedule.step_size) is int
