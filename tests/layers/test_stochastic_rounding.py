import keras
import numpy as np
import pytest

from keras_seminar.layers import StochasticRounding
from tests._grad import value_and_grad
from tests.layers._layer_checks import (
    config_roundtrip,
    mixed_precision_output,
    save_load_roundtrip,
    train_one_epoch,
)


def test_inference_rounds_to_nearest_and_clips(rng):
    layer = StochasticRounding(integer_bits=3, fractional_bits=2)
    x = np.array([[0.1, 0.13, -0.37, 3.9, -5.0, 0.625]], "float32")
    y = keras.ops.convert_to_numpy(layer(x))
    expected = np.clip(np.round(x * 4), -16, 15) / 4  # range [-4, 4 - 1/4]
    np.testing.assert_array_equal(y, expected)


def test_training_is_unbiased_and_on_the_grid():
    layer = StochasticRounding(integer_bits=4, fractional_bits=2, seed=0)
    x = np.full((2000,), 0.3, "float32")
    y = keras.ops.convert_to_numpy(layer(x, training=True))
    assert set(np.unique(y)) == {0.25, 0.5}
    assert abs(y.mean() - 0.3) < 0.02  # P(up) = 0.2


def test_straight_through_gradient_inside_the_range_zero_where_saturated():
    layer = StochasticRounding(4, 2)  # range [-8, 7.75]
    x = np.array([0.1, 0.3, -1.2, 9.0, -8.5], "float32")
    _, grad = value_and_grad(lambda t: keras.ops.sum(layer(t) * 3.0), x)
    np.testing.assert_allclose(grad, [3.0, 3.0, 3.0, 0.0, 0.0])


def test_symbolic_config_save_train(rng, tmp_path):
    inputs = keras.Input((4,))
    x = StochasticRounding(4, 8, seed=1, name="q")(keras.layers.Dense(4, name="d")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1, name="out")(x))
    assert model.output.shape == (None, 1)
    config_roundtrip(StochasticRounding(2, 3, seed=4))
    x = rng.normal(size=(8, 4)).astype("float32")
    save_load_roundtrip(model, x, tmp_path)
    train_one_epoch(model, x, rng.normal(size=(8, 1)).astype("float32"))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy):
    def make():
        inputs = keras.Input((3,))
        return keras.Model(inputs, StochasticRounding(4, 4)(keras.layers.Dense(3)(inputs)))

    mixed_precision_output(make, np.ones((2, 3), "float32"), policy)


def test_bad_args():
    with pytest.raises(ValueError, match="integer_bits=0"):
        StochasticRounding(integer_bits=0)
    with pytest.raises(ValueError, match="fractional_bits=-1"):
        StochasticRounding(fractional_bits=-1)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
def test_integer_inputs_are_refused(dtype):
    kind = "bool" if dtype == "bool" else "u?int"  # JAX without x64 holds int64 as int32
    with pytest.raises(ValueError, match=f"floating-point inputs.*inputs.dtype={kind}"):
        StochasticRounding()(np.ones((2, 3), dtype), training=True)


def test_nearest_mode_rounds_to_nearest_in_training_too():
    layer = StochasticRounding(integer_bits=4, fractional_bits=2, rounding="nearest")
    x = np.full((500,), 0.3, "float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=True)), 0.25)
    assert StochasticRounding.from_config(layer.get_config()).rounding == "nearest"
    with pytest.raises(ValueError, match="rounding='floor'"):
        StochasticRounding(rounding="floor")
