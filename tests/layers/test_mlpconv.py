import keras
import numpy as np
import pytest

from keras_seminar.layers import MLPConv, apply_nin_head
from tests.layers._layer_checks import (
    config_roundtrip,
    mixed_precision_output,
    save_load_roundtrip,
    train_one_epoch,
)


def test_build_sublayers_and_names():
    block = MLPConv([6, 5, 4], kernel_size=3, use_batchnorm=True, dropout=0.2, name="mlp1")
    block.build((None, 8, 8, 3))
    assert [c.name for c in block.convs] == ["mlp1_conv0", "mlp1_conv1", "mlp1_conv2"]
    assert [n.name for n in block.norms] == ["mlp1_bn0", "mlp1_bn1", "mlp1_bn2"]
    assert block.convs[0].kernel.shape == (3, 3, 3, 6)
    assert block.convs[1].kernel.shape == (1, 1, 6, 5)
    assert block.convs[0].bias is None  # batchnorm replaces the bias
    assert len(block.trainable_weights) == 3 + 2 * 3


def test_symbolic_call_shapes():
    inputs = keras.Input((8, 8, 3))
    assert MLPConv([4, 4], 3)(inputs).shape == (None, 8, 8, 4)
    assert MLPConv([4, 2], 3, strides=2, padding="valid")(inputs).shape == (None, 3, 3, 2)
    assert apply_nin_head(inputs, 5, name="h").shape == (None, 5)


def test_eager_call_matches_numpy(rng):
    block = MLPConv([3, 2], kernel_size=1, activation="relu", name="m")
    x = rng.normal(size=(2, 4, 4, 3)).astype("float32")
    y = keras.ops.convert_to_numpy(block(x))
    h = x
    for conv in block.convs:  # 1x1 convs are per-pixel dense layers
        h = np.maximum(h @ np.array(conv.kernel)[0, 0] + np.array(conv.bias), 0)
    np.testing.assert_allclose(y, h, rtol=1e-5, atol=1e-5)


def test_nin_head_is_average_then_softmax(rng):
    inputs = keras.Input((3, 3, 2))
    model = keras.Model(inputs, apply_nin_head(inputs, 4, name="head"))
    x = rng.normal(size=(2, 3, 3, 2)).astype("float32")
    conv = model.get_layer("head_conv")
    logits = (x @ np.array(conv.kernel)[0, 0] + np.array(conv.bias)).mean(axis=(1, 2))
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), expected, rtol=1e-5)
    assert [layer.name for layer in model.layers[1:]] == ["head_conv", "head_gap", "head_act"]


def test_nin_head_takes_a_constraint_and_a_regularizer_by_name(rng):
    inputs = keras.Input((3, 3, 2))
    model = keras.Model(inputs, apply_nin_head(inputs, 4, kernel_regularizer="l12",
                                               kernel_constraint="nonneg", name="head"))
    conv = model.get_layer("head_conv")
    assert isinstance(conv.kernel_constraint, keras.constraints.NonNeg)
    assert type(conv.kernel_regularizer).__name__ == "L12"
    model.compile(keras.optimizers.SGD(1.0), "sparse_categorical_crossentropy")
    model.train_on_batch(rng.normal(size=(8, 3, 3, 2)).astype("float32"), np.arange(8) % 4)
    assert np.array(conv.kernel).min() >= 0  # the constraint is applied after the step


def test_int_filters_is_one_conv_as_the_readme_shows(rng):
    block = MLPConv(16, 3, name="one")
    y = block(rng.normal(size=(2, 8, 8, 1)).astype("float32"))
    assert y.shape == (2, 8, 8, 16) and len(block.convs) == 1
    assert block.convs[0].kernel.shape == (3, 3, 1, 16)
    clone = config_roundtrip(block)
    assert clone.filters == [16] and clone.get_config() == block.get_config()


def test_config_roundtrip():
    block = MLPConv(
        [4, 3], 5, activation="elu", use_batchnorm=True, dropout=0.5, kernel_regularizer="l2"
    )
    clone = config_roundtrip(block)
    assert clone.filters == [4, 3] and clone.dropout == 0.5


def _model():
    inputs = keras.Input((8, 8, 3))
    x = MLPConv([6, 4], 3, use_batchnorm=True, dropout=0.1, name="mlp1")(inputs)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    return keras.Model(inputs, apply_nin_head(x, 3, name="head"))


def test_save_load_and_training_step(rng, tmp_path):
    model = _model()
    x = rng.normal(size=(8, 8, 8, 3)).astype("float32")
    y = rng.integers(0, 3, size=(8,))
    train_one_epoch(model, x, y, loss="sparse_categorical_crossentropy")
    save_load_roundtrip(model, x, tmp_path)  # includes batchnorm moving statistics


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy, rng):
    x = rng.normal(size=(2, 8, 8, 3)).astype("float32")
    mixed_precision_output(_model, x, policy, expected_dtype="float32")  # float32 softmax

    def block_only():
        inputs = keras.Input((8, 8, 3))
        return keras.Model(inputs, MLPConv([4, 2], 3, use_batchnorm=True)(inputs))

    mixed_precision_output(block_only, x, policy)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"filters": []}, r"filters=\[\]"),
        ({"filters": 0}, "filters=0"),
        ({"filters": True}, "filters=True"),
        ({"filters": "8"}, "filters=8"),
        ({"filters": [8, 0]}, r"filters=\[8, 0\]"),
        ({"filters": [8], "dropout": 1.0}, "dropout=1.0"),
    ],
)
def test_bad_args(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLPConv(**kwargs)


def test_head_bad_args():
    with pytest.raises(ValueError, match="num_classes=0"):
        apply_nin_head(keras.Input((3, 3, 2)), 0)
    with pytest.raises(ValueError, match="nonnegative"):
        apply_nin_head(keras.Input((3, 3, 2)), 2, kernel_constraint="nonnegative")


def test_one_by_one_kernels_of_one_shape_do_not_start_identical():
    # NiN's (192, 192, 192) blocks have two 1x1 kernels of one shape; sharing one initializer
    # instance, they started as copies.
    keras.utils.set_random_seed(0)
    layer = MLPConv((8, 8, 8), kernel_size=3)
    layer.build((None, 6, 6, 3))
    first, second = (keras.ops.convert_to_numpy(conv.kernel) for conv in layer.convs[1:])
    assert first.shape == second.shape == (1, 1, 8, 8)
    assert not np.array_equal(first, second)
