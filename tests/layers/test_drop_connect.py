import keras
import numpy as np
import pytest

from keras_seminar.layers import DropConnectDense
from keras_seminar.layers.drop_connect import MASKS
from tests.layers._layer_checks import (
    config_roundtrip,
    mixed_precision_output,
    save_load_roundtrip,
    train_one_epoch,
)


def _dense_ref(layer, x):
    return x @ np.array(layer.kernel) + np.array(layer.bias)


@pytest.mark.parametrize("mask", MASKS)
def test_inference_is_deterministic_plain_dense(rng, mask):
    layer = DropConnectDense(5, rate=0.5, mask=mask, bias_initializer="random_normal", seed=0)
    x = rng.normal(size=(4, 3)).astype("float32")
    for training in (None, False, False):
        y = keras.ops.convert_to_numpy(layer(x, training=training))
        np.testing.assert_allclose(y, _dense_ref(layer, x), rtol=1e-5, atol=1e-6)


def test_default_mask_is_per_batch_and_old_configs_keep_it():
    assert DropConnectDense(3).mask == "per_batch"
    config = DropConnectDense(3, rate=0.2).get_config()
    del config["mask"]  # a layer saved before the option existed
    assert DropConnectDense.from_config(config).mask == "per_batch"


def _rows(layer, x):
    return keras.ops.convert_to_numpy(layer(x, training=True))


def test_per_example_masks_differ_between_identical_examples():
    x = np.ones((16, 12), "float32")  # 16 identical examples
    per_example = _rows(DropConnectDense(20, rate=0.5, mask="per_example", use_bias=False, seed=0), x)
    per_batch = _rows(DropConnectDense(20, rate=0.5, mask="per_batch", use_bias=False, seed=0), x)
    np.testing.assert_array_equal(per_batch, np.broadcast_to(per_batch[0], per_batch.shape))
    distinct = {tuple(np.round(row, 5)) for row in per_example}
    assert len(distinct) == 16  # every example its own mask


def test_per_example_output_is_a_masked_kernel_row(rng):
    # one-hot rows: output row b is kernel row k(b), each weight zeroed or scaled by 1 / (1 - rate)
    layer = DropConnectDense(200, rate=0.25, mask="per_example", use_bias=False, seed=3)
    x = np.tile(np.eye(6, dtype="float32"), (3, 1))  # each kernel row picked by 3 examples
    y = _rows(layer, x)
    kernel = np.array(layer.kernel)[np.argmax(x, axis=1)]
    kept = y != 0
    np.testing.assert_allclose(y[kept], kernel[kept] / 0.75, rtol=1e-5)
    assert 0.2 < 1 - kept.mean() < 0.3
    assert not np.array_equal(kept[0], kept[6]) and not np.array_equal(kept[6], kept[12])


def test_per_example_mean_and_variance_match_independent_masks(rng):
    # n copies of 2 inputs in one batch: n independent masks per input. The mean must be the dense
    # output (within 4 standard errors) and the variance that of independent Bernoulli weights
    # (one mask shared by the batch would give variance 0 here).
    layer = DropConnectDense(5, rate=0.5, mask="per_example", seed=1)
    x = rng.normal(size=(2, 6)).astype("float32")
    n = 4000
    y = _rows(layer, np.repeat(x, n, axis=0)).reshape(2, n, 5)
    w = np.array(layer.kernel)
    var = (x**2) @ (w**2) * 0.5 / 0.5  # sum_i x_i^2 w_ij^2 rate / (1 - rate)
    np.testing.assert_array_less(np.abs(y.mean(1) - _dense_ref(layer, x)), 4 * np.sqrt(var / n))
    np.testing.assert_allclose(y.var(1, ddof=1), var, rtol=0.15)


def test_per_example_rank3_inputs_one_mask_per_row():
    layer = DropConnectDense(8, rate=0.5, mask="per_example", use_bias=False, seed=2)
    y = _rows(layer, np.ones((2, 5, 4), "float32"))
    assert y.shape == (2, 5, 8)
    assert len({tuple(np.round(row, 5)) for row in y.reshape(10, 8)}) == 10
    assert layer(keras.Input((5, 4))).shape == (None, 5, 8)


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


@pytest.mark.parametrize("mask", MASKS)
def test_same_seed_same_masks(rng, mask):
    x = rng.normal(size=(2, 4)).astype("float32")
    a = DropConnectDense(4, rate=0.5, mask=mask, kernel_initializer="ones", seed=7)
    b = DropConnectDense(4, rate=0.5, mask=mask, kernel_initializer="ones", seed=7)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(a(x, training=True)),
        keras.ops.convert_to_numpy(b(x, training=True)),
    )


@pytest.mark.parametrize("mask", MASKS)
def test_symbolic_call_and_config(mask):
    layer = DropConnectDense(3, rate=0.3, mask=mask, activation="relu", seed=2, kernel_regularizer="l2")
    assert layer(keras.Input((5,))).shape == (None, 3)
    clone = config_roundtrip(layer)
    assert clone.rate == 0.3 and clone.seed == 2 and clone.activation is keras.activations.relu
    assert clone.mask == mask


def _model(mask="per_batch"):
    inputs = keras.Input((4,))
    x = DropConnectDense(8, rate=0.5, mask=mask, activation="relu", seed=0, name="dc")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1, name="out")(x))


@pytest.mark.parametrize("mask", MASKS)
def test_save_load_and_training_step(rng, tmp_path, mask):
    model = _model(mask)
    x = rng.normal(size=(8, 4)).astype("float32")
    _, loaded = save_load_roundtrip(model, x, tmp_path)  # safe_mode=True: no Lambda, no pickled code
    assert loaded.get_layer("dc").rate == 0.5 and loaded.get_layer("dc").mask == mask
    train_one_epoch(model, x, rng.normal(size=(8, 1)).astype("float32"))  # a compiled fit, batch 4


@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy, rng, mask):
    keras.mixed_precision.set_global_policy(policy)
    layer = DropConnectDense(4, rate=0.5, mask=mask, seed=0)
    x = rng.normal(size=(2, 4)).astype("float32")
    y = layer(x, training=True)
    assert keras.backend.standardize_dtype(y.dtype) == policy.split("_")[1]
    assert layer.kernel.dtype == "float32"  # variables stay float32
    mixed_precision_output(lambda: _model(mask), x, policy)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rate": 1.0}, r"rate in \[0, 1\)\. Received: rate=1.0"),
        ({"rate": -0.1}, "rate=-0.1"),
        ({"rate": "0.5"}, "rate=0.5"),
        ({"seed": 1.5}, "seed=1.5"),
        ({"mask": "per_sample"}, r"mask in \('per_example', 'per_batch'\)\. Received: mask='per_sample'"),
        ({"mask": None}, "mask=None"),
    ],
)
def test_bad_args(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DropConnectDense(4, **kwargs)
