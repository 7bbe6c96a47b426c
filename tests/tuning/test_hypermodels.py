"""ZooHyperModel: a space for every zoo model, defaults, overrides and argument checks."""

import keras
import keras_tuner
import numpy as np
import pytest
from keras_seminar.tuning.hypermodels import ZooHyperModel, make_regularizer

from keras_seminar import models, regularizers
from keras_seminar.errors import UsageError


@pytest.mark.parametrize("name", models.available())
def test_search_spaces_name_declared_options(name):
    spec = models.get_spec(name)
    assert set(spec.search_space.get("width", ())) <= spec.options
    depth = spec.search_space.get("depth")
    if depth:
        assert depth["option"] in spec.options and depth["rule"] in ("value", "length", "per_stage")
        assert all(isinstance(d, int) and d > 0 for d in depth["choices"])


def test_the_space_follows_the_spec_not_the_builder_signature():
    hm = ZooHyperModel("mlp")
    assert {"dropout", "regularizer", "nonneg", "width", "depth"} <= set(hm.hyperparameter_names)
    assert "augment_translate" not in hm.hyperparameter_names  # mlp does not declare augment
    hp = keras_tuner.HyperParameters()
    hp.values.update(width=0.5, depth=2)
    assert hm.builder_options(hm.declare(hp))["hidden"] == (128, 128)
    assert "dropout" not in ZooHyperModel("speedrun_small").hyperparameter_names
    with pytest.raises(UsageError, match="Unknown model 'vgg'"):
        ZooHyperModel("vgg")


@pytest.mark.parametrize("name", models.available())
def test_every_zoo_model_has_a_space(name):
    hm = ZooHyperModel(name)
    hp = keras_tuner.HyperParameters()
    values = hm.declare(hp)
    assert {"learning_rate", "batch_size"} <= set(values)
    low, high = hm.domains["learning_rate"][1]
    assert low <= values["learning_rate"] <= high
    # Defaults reproduce the zoo model: the builder's own width, depth and dropout, no penalty.
    options = hm.builder_options(values)
    assert "kernel_regularizer" not in options and "kernel_constraint" not in options
    for option, value in options.items():
        if option != "augment":
            assert _plain(value) == _plain(hm.builder_defaults[option]), option


def _plain(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def test_defaults_follow_recipe_and_builder():
    hm = ZooHyperModel("cnn", train_size=512)
    hp = keras_tuner.HyperParameters()
    model = hm.build(hp)
    recipe = models.get_recipe("cnn")
    assert hp.values["learning_rate"] == pytest.approx(recipe.learning_rate)
    assert hp.values["batch_size"] == recipe.batch_size
    assert hp.values["dropout"] == 0.5 and hp.values["depth"] == 2 and hp.values["width"] == 1.0
    assert "regularizer_strength" not in hp.values  # conditional on a regularizer
    assert model.count_params() == models.build_model("cnn").count_params()
    assert model.optimizer is not None  # compiled
    assert set(ZooHyperModel("softmax").hyperparameter_names) == {
        "learning_rate", "batch_size", "regularizer", "regularizer_strength", "q", "nonneg"}


def test_width_depth_regularizer_nonneg_reach_the_model():
    hm = ZooHyperModel("cnn", train_size=256)
    hp = keras_tuner.HyperParameters()
    hp.values.update(width=0.5, depth=3, regularizer="lq", q=0.25, regularizer_strength=1e-3,
                     nonneg=True, augment_translate=0.0)
    assert hm.builder_options({**hp.values, "augment_translate": 0.1})["augment"] == {"translate": 0.1}
    model = hm.build(hp)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [16, 32, 64]
    assert isinstance(convs[0].kernel_regularizer, regularizers.Lq)
    assert convs[0].kernel_regularizer.q == 0.25
    assert isinstance(convs[0].kernel_constraint, keras.constraints.NonNeg)
    assert model.get_layer("fc1").units == 512
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype="float32")
    model.fit(x, np.arange(4), epochs=1, verbose=0)
    assert min(float(keras.ops.min(c.kernel)) for c in convs) >= 0.0


def test_wide_resnet_and_lstm_depth_rules():
    hp = keras_tuner.HyperParameters()
    hp.values.update(depth=10, width=0.5)
    hm = ZooHyperModel("wrn16_4")
    options = hm.builder_options(hm.declare(hp))
    assert (options["depth"], options["width"], options["dropout"]) == (10, 2, 0.3)
    assert options["augment"] == {**models.get_recipe("wrn16_4").augment}  # e.g. its flips kept
    hp = keras_tuner.HyperParameters()
    hp.values.update(depth=2)
    hm = ZooHyperModel("resnet20")
    assert hm.builder_options(hm.declare(hp))["stackwise_num_blocks"] == (2, 2, 2)
    hm = ZooHyperModel("lstm")
    assert hm.builder_options(hm.declare(hp))["num_layers"] == 2


def test_fixed_and_restricted_space():
    hm = ZooHyperModel("cnn", fixed={"dropout": 0.25, "regularizer": "l12"},
                       space={"learning_rate": (1e-4, 1e-3), "batch_size": [32, 64]})
    hp = keras_tuner.HyperParameters()
    hm.declare(hp)
    assert hp.values["dropout"] == 0.25 and hp.values["regularizer"] == "l12"
    assert "regularizer_strength" in hp.values and "q" not in hp.values
    space = {p.name: p for p in hp.space}
    assert isinstance(space["dropout"], keras_tuner.engine.hyperparameters.Fixed)
    assert (space["learning_rate"].min_value, space["learning_rate"].max_value) == (1e-4, 1e-3)
    assert space["batch_size"].values == [32, 64]
    assert hp.values["batch_size"] == 64  # the recipe's 128 is outside: the closest choice


def test_make_regularizer():
    assert make_regularizer("none") is None
    assert isinstance(make_regularizer("l1", 1e-3), keras.regularizers.L1)
    assert isinstance(make_regularizer("group_lasso", 1e-3), regularizers.GroupLasso)
    assert make_regularizer("l12", 2e-3).factor == pytest.approx(2e-3)


@pytest.mark.parametrize("kwargs, match", [
    ({"model_name": "vgg"}, "Unknown model 'vgg'"),
    ({"fixed": {"dropout": 1.5}}, r"Expected dropout to be a number in \[0, 1\)\. Received: fixed\['dropout'\]=1.5"),
    ({"fixed": {"momentum": 0.9}}, "Unknown hyperparameter 'momentum' in fixed"),
    ({"fixed": {"regularizer": "l3"}}, "Expected regularizer to be one of .* Received: fixed\\['regularizer'\\]='l3'"),
    ({"space": {"learning_rate": (1e-2, 1e-4)}}, "0 < min < max. Received: \\(0.01, 0.0001\\)"),
    ({"space": {"batch_size": []}}, "non-empty list"),
    ({"space": {"batch_size": [64, -1]}}, "Received: space\\['batch_size'\\]=-1"),
    ({"epochs": 0}, "Received: epochs=0"),
])
def test_constructor_errors(kwargs, match):
    kwargs = {"model_name": "cnn", **kwargs}
    with pytest.raises(ValueError, match=match):
        ZooHyperModel(**kwargs)


def test_softmax_has_no_width():
    with pytest.raises(ValueError, match="Unknown hyperparameter 'width' in space for model 'softmax'"):
        ZooHyperModel("softmax", space={"width": [2.0]})
