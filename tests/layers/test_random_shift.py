import keras
import numpy as np
import pytest

from keras_seminar.layers import RandomShift
from keras_seminar.models import build_model
from tests.layers._layer_checks import (
    config_roundtrip,
    mixed_precision_output,
    save_load_roundtrip,
    train_one_epoch,
)


def _pad_crop_reference(image, row, col, flip):
    """NumPy: mirror, pad by |shift| with zeros, crop back so content moves by (row, col)."""
    if flip:
        image = image[:, ::-1]
    h, w = image.shape[:2]
    p = max(abs(row), abs(col))
    padded = np.pad(image, ((p, p), (p, p), (0, 0)))
    return padded[p - row:p - row + h, p - col:p - col + w]


def test_shift_matches_pad_and_crop(rng):
    x = rng.normal(size=(6, 7, 5, 2)).astype("float32")  # non-square, two channels
    rows, cols, flips = np.array([0, 1, -2, 3, 0, -1]), np.array([0, -1, 2, 0, 4, 1]), np.array([0, 1, 0, 1, 1, 0])
    got = keras.ops.convert_to_numpy(RandomShift.shift(x, rows, cols, flips))
    want = np.stack([_pad_crop_reference(x[n], rows[n], cols[n], flips[n]) for n in range(6)])
    np.testing.assert_array_equal(got, want)


def test_training_draws_shifts_within_range_and_flips(rng):
    # Each image holds one bright pixel at a known place; where it lands gives the draw.
    n, size, s = 400, 11, 2
    x = np.zeros((n, size, size, 1), "float32")
    x[:, 5, 3] = 1.0
    y = keras.ops.convert_to_numpy(RandomShift(s, horizontal_flip=True, seed=3)(x, training=True))
    assert np.all(y.reshape(n, -1).sum(1) == 1.0)  # moved, never lost or interpolated
    rows, cols = np.nonzero(y[..., 0])[1:]
    assert set(rows - 5) == set(range(-s, s + 1))
    unflipped, flipped = cols - 3, cols - (size - 1 - 3)
    assert np.all((np.abs(unflipped) <= s) | (np.abs(flipped) <= s))
    assert 0.35 < np.mean(np.abs(flipped) <= s) < 0.65  # about half are mirrored


def test_identity_at_inference_and_without_work(rng):
    x = rng.normal(size=(3, 8, 8, 1)).astype("float32")
    layer = RandomShift(2, horizontal_flip=True, seed=0)
    for training in (None, False):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=training)), x)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(RandomShift(0)(x, training=True)), x)


def test_same_seed_same_draws(rng):
    x = rng.normal(size=(5, 9, 9, 1)).astype("float32")
    a, b = (keras.ops.convert_to_numpy(RandomShift(3, True, seed=7)(x, training=True)) for _ in range(2))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, match", [
    ({"max_shift": -1}, "max_shift=-1"),
    ({"max_shift": 1.5}, "max_shift=1.5"),
    ({"max_shift": True}, "max_shift=True"),
    ({"max_shift": 1, "horizontal_flip": "yes"}, "horizontal_flip='yes'"),
    ({"max_shift": 1, "seed": 0.5}, "seed=0.5"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RandomShift(**kwargs)


@pytest.mark.parametrize("shape, match", [((None, 8, 8), "input_shape"), ((None, 4, 4, 1), "max_shift=4")])
def test_bad_input_shapes(shape, match):
    with pytest.raises(ValueError, match=match):
        RandomShift(4).build(shape)


def _model():
    inputs = keras.Input((10, 10, 1))
    x = RandomShift(2, horizontal_flip=True, seed=0, name="shift")(inputs)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="out")(x))


def test_config_save_load_and_training_step(rng, tmp_path):
    clone = config_roundtrip(RandomShift(2, horizontal_flip=True, seed=4, name="s"))
    assert (clone.max_shift, clone.horizontal_flip, clone.seed) == (2, True, 4)
    model = _model()
    x = rng.normal(size=(8, 10, 10, 1)).astype("float32")
    assert model.get_layer("shift").compute_output_shape((None, 10, 10, 1)) == (None, 10, 10, 1)
    _, loaded = save_load_roundtrip(model, x, tmp_path)
    assert loaded.get_layer("shift").max_shift == 2
    train_one_epoch(model, x, rng.normal(size=(8, 3)).astype("float32"))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_is_exact(policy, rng):
    x = rng.integers(0, 256, size=(4, 6, 6, 1)).astype("float32")  # exact in bf16 and fp16
    y = mixed_precision_output(lambda: RandomShift(1, seed=0), x, policy, expected_dtype=policy.split("_")[1])
    y = keras.ops.convert_to_numpy(keras.ops.cast(y, "float32"))
    np.testing.assert_array_equal(y, x)  # inference: identity, no rounding
    layer = RandomShift(1, seed=0)
    shifted = keras.ops.convert_to_numpy(keras.ops.cast(layer(x, training=True), "float32"))
    assert set(np.unique(shifted)) <= set(np.unique(x)) | {0.0}  # moved values, no new ones


def test_recipe_shift_builds_one_fused_layer():
    model = build_model("lenet5", augment={"shift": 2, "flip": True})
    layer = model.get_layer("augment_shift")
    assert isinstance(layer, RandomShift) and layer.max_shift == 2 and layer.horizontal_flip
    with pytest.raises(ValueError, match="not both"):
        build_model("lenet5", augment={"shift": 2, "translate": 0.1})
