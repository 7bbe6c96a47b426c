"""The zoo's MLP: layer names the experiments read, options, sizes, constraints."""

import keras
import numpy as np
import pytest

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


@pytest.mark.parametrize("options, match", [
    ({"hidden": (16, 0)}, r"hidden=\[16, 0\]"),
    ({"dropout": 1.0}, "dropout=1.0"),
    ({"activation": "bogus"}, "bogus"),
    ({"augment": {"translate": 0.1}}, "Model 'mlp' does not take option 'augment'"),
])
def test_bad_options(options, match):
    with pytest.raises(ValueError, match=match):
        build_model("mlp", **options)


def test_recipe_and_spec():
    recipe = get_recipe("mlp")
    assert (recipe.optimizer, recipe.learning_rate, recipe.batch_size, recipe.epochs) == ("adam", 1e-3, 128, 20)
    assert get_spec("mlp").search_space["width"] == ("hidden",)
