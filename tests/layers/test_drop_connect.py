import keras
import numpy as np
import pytest

from keras_seminar.layers import DropConnectDense
from tests.layers._layer_checks import (
    config_roundtrip,
    mixed_precision_output,
    save_load_roundtrip,
    train_one_epoch,
)


def _dense_ref(layer, x):
    return x @ np.array(layer.kernel) + np.array(layer.bias)


def test_inference_equals_plain_dense(rng):
    layer = DropConnectDense(5, rate=0.5, bias_initializer="random_normal", seed=0)
    x = rng.normal(size=(4, 3)).astype("float32")
    for training in (None, False):
        y = keras.ops.convert_to_numpy(layer(x, training=training))
        np.testing.assert_allclose(y, _dense_ref(layer, x), rtol=1e-5, atol=1e-6)


def test_training_drops_weights_with_inverted_scaling(rng):
    layer = DropConnectDense(64, rate=0.25, use_bias=False, kernel_initializer="ones", seed=3)
    x = np.eye(8, dtype="float32")  # row i of the output is row i of the masked kernel
    y = keras.ops.convert_to_numpy(layer(x, training=True))
    values = set(np.round(np.unique(y), 5))
    assert values <= {0.0, np.float32(round(1 / 0.75, 5))}
    assert 0.15 < np.mean(y == 0) < 0.35
    y2 = keras.ops.convert_to_numpy(layer(x, training=True))
    assert not np.array_equal(y, y2)  # the seed generator advances


def test_training_mean_over_masks_matches_dense(rng):
    layer = DropConnectDense(6, rate=0.5, seed=1)
    x = rng.normal(size=(3, 4)).astype("float32")
    mean = np.mean([keras.ops.convert_to_numpy(layer(x, training=True)) for _ in range(400)], 0)
    ref = _dense_ref(layer, x)
    assert np.max(np.abs(mean - ref)) < 0.15 * np.max(np.abs(ref)) + 0.05


def test_same_seed_same_masks(rng):
    x = rng.normal(size=(2, 4)).astype("float32")
    a = DropConnectDense(4, rate=0.5, kernel_initializer="ones", seed=7)
    b = DropConnectDense(4, rate=0.5, kernel_initializer="ones", seed=7)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(a(x, training=True)),
        keras.ops.convert_to_numpy(b(x, training=True)),
    )


def test_symbolic_call_and_config():
    layer = DropConnectDense(3, rate=0.3, activation="relu", seed=2, kernel_regularizer="l2")
    assert layer(keras.Input((5,))).shape == (None, 3)
    clone = config_roundtrip(layer)
    assert clone.rate == 0.3 and clone.seed == 2 and clone.activation is keras.activations.relu


def _model():
    inputs = keras.Input((4,))
    x = DropConnectDense(8, rate=0.5, activation="relu", seed=0, name="dc")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1, name="out")(x))


def test_save_load_and_training_step(rng, tmp_path):
    model = _model()
    x = rng.normal(size=(8, 4)).astype("float32")
    _, loaded = save_load_roundtrip(model, x, tmp_path)
    assert loaded.get_layer("dc").rate == 0.5
    train_one_epoch(model, x, rng.normal(size=(8, 1)).astype("float32"))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy, rng):
    keras.mixed_precision.set_global_policy(policy)
    layer = DropConnectDense(4, rate=0.5, seed=0)
    x = rng.normal(size=(2, 4)).astype("float32")
    y = layer(x, training=True)
    assert keras.backend.standardize_dtype(y.dtype) == policy.split("_")[1]
    assert layer.kernel.dtype == "float32"  # variables stay float32
    mixed_precision_output(_model, x, policy)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rate": 1.0}, r"rate in \[0, 1\)\. Received: rate=1.0"),
        ({"rate": -0.1}, "rate=-0.1"),
        ({"rate": "0.5"}, "rate=0.5"),
        ({"seed": 1.5}, "seed=1.5"),
    ],
)
def test_bad_args(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DropConnectDense(4, **kwargs)
