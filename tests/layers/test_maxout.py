import keras
import numpy as np
import pytest

from keras_seminar import regularizers
from keras_seminar.constraints import NonNegMaxNorm
from keras_seminar.layers import Maxout, MaxoutChannels
from tests.layers._layer_checks import (
    config_roundtrip,
    load_in_fresh_process,
    mixed_precision_output,
    save_load_roundtrip,
    train_one_epoch,
)


def _np_maxout(x, kernel, bias, units, k):
    z = x @ kernel + bias
    return z.reshape(z.shape[:-1] + (units, k)).max(-1)


def test_build_and_eager_call_match_numpy(rng):
    layer = Maxout(3, num_pieces=4, bias_initializer="random_normal")
    x = rng.normal(size=(5, 6)).astype("float32")
    y = keras.ops.convert_to_numpy(layer(x))
    assert layer.built and layer.kernel.shape == (6, 12) and layer.bias.shape == (12,)
    expected = _np_maxout(x, np.array(layer.kernel), np.array(layer.bias), 3, 4)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_rank3_input_and_no_bias(rng):
    layer = Maxout(2, 3, use_bias=False)
    x = rng.normal(size=(2, 4, 5)).astype("float32")
    y = keras.ops.convert_to_numpy(layer(x))
    expected = _np_maxout(x, np.array(layer.kernel), 0.0, 2, 3)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert layer.bias is None


def test_symbolic_call():
    inputs = keras.Input((7,))
    assert Maxout(4, 2)(inputs).shape == (None, 4)
    maps = keras.Input((5, 5, 6))
    assert MaxoutChannels(3)(maps).shape == (None, 5, 5, 2)
    assert MaxoutChannels(2, axis=1)(keras.Input((4, 3))).shape == (None, 2, 3)


def test_channels_match_numpy(rng):
    x = rng.normal(size=(2, 3, 3, 6)).astype("float32")
    y = keras.ops.convert_to_numpy(MaxoutChannels(3)(x))
    np.testing.assert_array_equal(y, x.reshape(2, 3, 3, 2, 3).max(-1))
    x = rng.normal(size=(2, 4, 3)).astype("float32")  # channels_first-like axis=1
    y = keras.ops.convert_to_numpy(MaxoutChannels(2, axis=1)(x))
    np.testing.assert_array_equal(y, x.reshape(2, 2, 2, 3).max(2))


def test_config_roundtrip_with_nested_objects():
    layer = Maxout(
        4,
        3,
        kernel_regularizer=regularizers.L12(1e-3),
        kernel_constraint=NonNegMaxNorm(2.0),
        bias_initializer="ones",
        name="mx",
    )
    clone = config_roundtrip(layer)
    assert isinstance(clone.kernel_regularizer, regularizers.L12)
    assert isinstance(clone.kernel_constraint, NonNegMaxNorm)
    config_roundtrip(MaxoutChannels(2, axis=1, name="mc"))


def _model():
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = MaxoutChannels(2, name="mc")(x)
    x = keras.layers.Flatten(name="flat")(x)
    x = Maxout(3, 2, kernel_regularizer=regularizers.L12(1e-4), name="mx")(x)
    return keras.Model(inputs, keras.layers.Dense(2, name="out")(x))


def test_keras_save_load_roundtrip_and_fresh_process(rng, tmp_path):
    model = _model()
    x = rng.normal(size=(3, 6, 6, 2)).astype("float32")
    path, loaded = save_load_roundtrip(model, x, tmp_path)
    assert isinstance(loaded.get_layer("mx").kernel_regularizer, regularizers.L12)
    np.save(tmp_path / "x.npy", x)
    out = load_in_fresh_process(path, tmp_path / "x.npy")
    np.testing.assert_allclose(out, keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-6)


def test_training_step(rng):
    x = rng.normal(size=(8, 6, 6, 2)).astype("float32")
    train_one_epoch(_model(), x, rng.normal(size=(8, 2)).astype("float32"))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy, rng):
    x = rng.normal(size=(2, 6, 6, 2)).astype("float32")
    mixed_precision_output(_model, x, policy)
    layer = Maxout(3, 2)
    layer(x[:, 0, 0])
    assert layer.kernel.dtype == "float32"  # variables stay float32


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"units": 0, "num_pieces": 2}, "units=0"),
        ({"units": 2.5, "num_pieces": 2}, "units=2.5"),
        ({"units": 4, "num_pieces": 1}, r"num_pieces >= 2|num_pieces=1"),
        ({"units": 4, "num_pieces": "3"}, "num_pieces=3"),
    ],
)
def test_maxout_bad_args(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Maxout(**kwargs)


def test_channels_bad_args():
    with pytest.raises(ValueError, match="num_pieces=1"):
        MaxoutChannels(1)
    with pytest.raises(ValueError, match="axis=0"):
        MaxoutChannels(2, axis=0)
    with pytest.raises(ValueError, match="axis=5"):
        MaxoutChannels(2, axis=5)(keras.Input((4, 4, 4)))
    with pytest.raises(ValueError, match="divisible by num_pieces=4.*channels=6"):
        MaxoutChannels(4)(keras.Input((3, 3, 6)))


def test_numpy_ints_are_accepted_and_stored_as_ints():
    layer = Maxout(np.int64(3), np.int32(2))
    assert layer.get_config()["units"] == 3 and type(layer.units) is int
    assert type(MaxoutChannels(np.int64(2)).num_pieces) is int
