"""The zoo's MLP: layer names the experiments read, options, sizes, constraints."""

import keras
import numpy as np
import pytest

from keras_seminar.layers import DropConnectDense
from keras_seminar.models import build_model, get_recipe, get_spec


def test_layers_and_size():
    model = build_model("mlp")
    assert [layer.name for layer in model.layers] == ["images", "flatten", "fc1", "logits", "predictions"]
    assert model.count_params() == 784 * 256 + 256 + 256 * 10 + 10
    assert model.get_layer("predictions").get_config()["activation"] == "softmax"
    assert model.output.dtype == "float32"
    deep = build_model("mlp", hidden=(32, 16, 8), dropout=0.2, num_classes=3)
    names = [layer.name for layer in deep.layers]
    assert names == ["images", "flatten", "fc1", "fc1_dropout", "fc2", "fc2_dropout", "fc3",
                     "fc3_dropout", "logits", "predictions"]
    assert deep.get_layer("logits").units == 3
    assert [layer.name for layer in build_model("mlp", hidden=()).layers][-2:] == ["logits", "predictions"]


def test_constraints_regularizer_initializer():
    model = build_model("mlp", hidden=(16,), kernel_constraint="nonneg", kernel_regularizer="l1",
                        kernel_initializer="zeros")
    for name in ("fc1", "logits"):
        layer = model.get_layer(name)
        assert isinstance(layer.kernel_constraint, keras.constraints.NonNeg)
        assert isinstance(layer.kernel_regularizer, keras.regularizers.L1)
        assert isinstance(layer.kernel_initializer, keras.initializers.Zeros)
    only_out = build_model("mlp", hidden=(16,), output_constraint="nonneg")
    assert only_out.get_layer("fc1").kernel_constraint is None
    assert isinstance(only_out.get_layer("logits").kernel_constraint, keras.constraints.NonNeg)


def test_trains_and_keeps_output_weights_nonneg(rng):
    model = build_model("mlp", hidden=(16,), output_constraint="nonneg", activation="tanh")
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    x = rng.random((32, 28, 28, 1)).astype("float32")
    model.fit(x, np.arange(32) % 10, epochs=2, verbose=0)
    assert float(keras.ops.min(model.get_layer("logits").kernel)) >= 0.0


def test_drop_connect_hidden_layers(rng, tmp_path):
    model = build_model("mlp", hidden=(16, 8), drop_connect=0.5, kernel_constraint="nonneg")
    assert [layer.name for layer in model.layers] == ["images", "flatten", "fc1", "fc2", "logits", "predictions"]
    for name in ("fc1", "fc2"):
        layer = model.get_layer(name)
        assert isinstance(layer, DropConnectDense) and layer.rate == 0.5
        assert isinstance(layer.kernel_constraint, keras.constraints.NonNeg)
    assert type(model.get_layer("logits")) is keras.layers.Dense  # the classifier is not dropped
    assert not isinstance(build_model("mlp", hidden=(16,)).get_layer("fc1"), DropConnectDense)
    x = rng.random((4, 28, 28, 1)).astype("float32")
    infer = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x, training=False)), infer)
    assert not np.allclose(keras.ops.convert_to_numpy(model(x, training=True)), infer)
    model.save(tmp_path / "dc.keras")
    loaded = keras.saving.load_model(tmp_path / "dc.keras")
    assert loaded.get_layer("fc2").rate == 0.5
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x, training=False)), infer, rtol=1e-6)


@pytest.mark.parametrize("options, match", [
    ({"hidden": (16, 0)}, r"hidden=\[16, 0\]"),
    ({"dropout": 1.0}, "dropout=1.0"),
    ({"drop_connect": -0.1}, "drop_connect=-0.1"),
    ({"activation": "bogus"}, "bogus"),
    ({"augment": {"translate": 0.1}}, "Model 'mlp' does not take option 'augment'"),
])
def test_bad_options(options, match):
    with pytest.raises(ValueError, match=match):
        build_model("mlp", **options)


def test_recipe_and_spec():
    recipe = get_recipe("mlp")
    assert (recipe.optimizer, recipe.learning_rate, recipe.batch_size, recipe.epochs) == ("adam", 1e-3, 128, 20)
    keras_tuner = pytest.importorskip("keras_tuner")
    hp = keras_tuner.HyperParameters()
    hp.values.update(width=2.0, depth=3)
    assert get_spec("mlp").search_space(hp, get_spec("mlp").defaults) == {"hidden": (512, 512, 512)}


@pytest.mark.parametrize("init", ["glorot_uniform", keras.initializers.RandomUniform(0.0, 0.02, seed=3)])
def test_kernels_of_one_shape_do_not_start_identical(init):
    # One Keras initializer instance draws the same values at every call: before the fix the
    # three 64x64 kernels of this net started as copies of one another.
    keras.utils.set_random_seed(0)
    model = build_model("mlp", hidden=(64, 64, 64), kernel_initializer=init)
    kernels = [keras.ops.convert_to_numpy(model.get_layer(name).kernel) for name in ("fc2", "fc3")]
    assert not np.array_equal(kernels[0], kernels[1])
    assert abs(np.corrcoef(kernels[0].ravel(), kernels[1].ravel())[0, 1]) < 0.1
    # Reproducible: the same seed builds the same net.
    keras.utils.set_random_seed(0)
    again = build_model("mlp", hidden=(64, 64, 64), kernel_initializer=init)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again.get_layer("fc3").kernel), kernels[1])


def test_cnn_takes_a_kernel_initializer_and_names_a_bad_one():
    model = build_model("cnn", filters=(4, 4), dense_units=8, kernel_initializer="ones")
    for name in ("conv1", "conv2", "fc1", "predictions_dense"):
        assert np.all(keras.ops.convert_to_numpy(model.get_layer(name).kernel) == 1.0)
    with pytest.raises(ValueError, match="not_an_init"):
        build_model("cnn", kernel_initializer="not_an_init")
