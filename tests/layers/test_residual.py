import keras
import numpy as np
import pytest

from keras_seminar.layers import apply_basic_block, apply_bottleneck_block, apply_wide_block
from tests.layers._layer_checks import mixed_precision_output, save_load_roundtrip, train_one_epoch


def _names(model):
    return [layer.name for layer in model.layers[1:]]


def _build(block, shape=(8, 8, 4), **kwargs):
    inputs = keras.Input(shape)
    return keras.Model(inputs, block(inputs, **kwargs))


def test_identity_v1_names_and_shape():
    model = _build(apply_basic_block, filters=4, stride=1, name="b")
    assert model.output.shape == (None, 8, 8, 4)
    assert not any("shortcut" in n for n in _names(model))
    assert set(_names(model)) == {
        "b_1_conv", "b_1_bn", "b_1_relu", "b_2_conv", "b_2_bn", "b_add", "b_out",
    }  # fmt: skip


@pytest.mark.parametrize("preact", [False, True])
def test_projection_when_shape_changes(preact):
    model = _build(apply_basic_block, filters=8, stride=2, preact=preact, name="b")
    assert model.output.shape == (None, 4, 4, 8)
    assert model.get_layer("b_shortcut_conv").strides == (2, 2)
    assert ("b_shortcut_bn" in _names(model)) is not preact
    assert ("b_preact_bn" in _names(model)) is preact


def test_bottleneck_and_wide_shapes():
    model = _build(apply_bottleneck_block, filters=2, stride=2, name="bt")
    assert model.output.shape == (None, 4, 4, 8)
    assert model.get_layer("bt_2_conv").strides == (2, 2)  # stride on the 3x3 conv
    model = _build(apply_wide_block, filters=8, stride=1, dropout=0.3, name="w")
    assert model.output.shape == (None, 8, 8, 8)
    names = _names(model)
    assert names.index("w_1_conv") < names.index("w_dropout") < names.index("w_2_conv")


def _zero_last_conv(model, name):
    conv = model.get_layer(name)
    conv.kernel.assign(np.zeros(conv.kernel.shape, "float32"))


def test_identity_shortcut_matches_numpy(rng):
    """With the residual branch zeroed, v1 returns relu(x) and v2 returns x exactly."""
    x = rng.normal(size=(2, 8, 8, 4)).astype("float32")
    v1 = _build(apply_basic_block, filters=4, name="v1")
    _zero_last_conv(v1, "v1_2_conv")  # BN(0) = beta = 0 at inference
    np.testing.assert_allclose(keras.ops.convert_to_numpy(v1(x)), np.maximum(x, 0), atol=1e-6)
    v2 = _build(apply_bottleneck_block, filters=1, preact=True, name="v2")
    _zero_last_conv(v2, "v2_3_conv")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(v2(x)), x, atol=1e-6)


def test_regularizer_and_constraint_passed_to_every_conv():
    model = _build(
        apply_basic_block, filters=8, stride=2, kernel_regularizer="l2",
        kernel_constraint="non_neg", name="b",
    )  # fmt: skip
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 3
    assert all(isinstance(c.kernel_regularizer, keras.regularizers.L2) for c in convs)
    assert all(isinstance(c.kernel.constraint, keras.constraints.NonNeg) for c in convs)
    assert len(model.losses) == 3


def test_unnamed_blocks_get_unique_names():
    inputs = keras.Input((4, 4, 2))
    x = apply_basic_block(inputs, 2)
    x = apply_basic_block(x, 2)
    assert len({layer.name for layer in keras.Model(inputs, x).layers}) == 15


def _stack():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="stem")(inputs)
    x = apply_basic_block(x, 4, 1, name="s1")
    x = apply_bottleneck_block(x, 2, 2, preact=True, name="s2")
    x = apply_wide_block(x, 8, 1, dropout=0.2, name="s3")
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, keras.layers.Dense(2, dtype="float32", name="out")(x))


def test_save_load_and_training_step(rng, tmp_path):
    model = _stack()
    x = rng.normal(size=(8, 8, 8, 3)).astype("float32")
    train_one_epoch(model, x, rng.normal(size=(8, 2)).astype("float32"))
    save_load_roundtrip(model, x, tmp_path)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy, rng):
    x = rng.normal(size=(2, 8, 8, 3)).astype("float32")
    mixed_precision_output(_stack, x, policy, expected_dtype="float32")
    mixed_precision_output(
        lambda: _build(apply_wide_block, filters=4, name="w"), x[..., :1].repeat(4, -1), policy
    )


@pytest.mark.parametrize(
    "block, kwargs, match",
    [
        (apply_basic_block, {"filters": 0}, "filters=0"),
        (apply_basic_block, {"filters": 4, "stride": 3}, "stride=3"),
        (apply_bottleneck_block, {"filters": 4, "expansion": 0}, "expansion=0"),
        (apply_wide_block, {"filters": 4, "dropout": 1.5}, "dropout=1.5"),
    ],
)
def test_bad_args(block, kwargs, match):
    with pytest.raises(ValueError, match=match):
        block(keras.Input((4, 4, 4)), **kwargs)
