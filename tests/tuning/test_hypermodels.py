"""ZooHyperModel: every zoo model's own declared space, defaults, overrides and their checks."""

import keras
import keras_tuner
import numpy as np
import pytest
from keras_seminar.tuning.hypermodels import ZooHyperModel, json_space, parse_domain

from keras_seminar import models, regularizers
from keras_seminar.errors import UsageError
from keras_seminar.models.hyperparameters import declare, make_regularizer


def _plain(value):
    return list(value) if isinstance(value, (list, tuple)) else value


@pytest.mark.parametrize("name", models.available())
def test_every_zoo_model_declares_a_space_that_reproduces_it(name):
    spec = models.get_spec(name)
    hp = keras_tuner.HyperParameters()
    training, options = declare(hp, spec)
    assert {"learning_rate", "batch_size"} <= set(hp.values)
    assert training == {"learning_rate": spec.recipe.learning_rate, "batch_size": spec.recipe.batch_size}
    assert set(options) <= spec.options  # only options the builder takes
    # Defaults reproduce the zoo model: the builder's own width, depth and dropout, no penalty.
    assert "kernel_regularizer" not in options and "kernel_constraint" not in options
    for option, value in options.items():
        if option != "augment":
            assert _plain(value) == _plain(spec.defaults[option]), option
    assert ZooHyperModel(name).hyperparameter_names == [p.name for p in hp.space]


def test_the_space_follows_the_builder():
    hm = ZooHyperModel("mlp")
    assert {"dropout", "regularizer", "nonneg", "width", "depth"} <= set(hm.hyperparameter_names)
    assert "augment_translate" not in hm.hyperparameter_names  # mlp takes no augment
    hp = keras_tuner.HyperParameters()
    hp.values.update(width=0.5, depth=2)
    assert hm.declare(hp)[1]["hidden"] == (128, 128)
    assert "dropout" not in ZooHyperModel("speedrun_small").hyperparameter_names
    assert set(ZooHyperModel("softmax").hyperparameter_names) == {
        "learning_rate", "batch_size", "regularizer", "regularizer_strength", "q", "nonneg"}
    with pytest.raises(UsageError, match="Unknown model 'vgg'"):
        ZooHyperModel("vgg")


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


def test_width_depth_regularizer_nonneg_reach_the_model():
    hm = ZooHyperModel("cnn", train_size=256)
    hp = keras_tuner.HyperParameters()
    hp.values.update(width=0.5, depth=3, regularizer="lq", q=0.25, regularizer_strength=1e-3,
                     nonneg=True, augment_translate=0.1)
    assert hm.declare(hp.copy())[1]["augment"] == {"translate": 0.1}
    hp.values["augment_translate"] = 0.0
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


def test_wide_resnet_resnet_and_lstm_depth():
    hp = keras_tuner.HyperParameters()
    hp.values.update(depth=10, width=0.5)
    options = ZooHyperModel("wrn16_4").declare(hp)[1]
    assert (options["depth"], options["width"], options["dropout"]) == (10, 2, 0.3)
    assert options["augment"] == {**models.get_recipe("wrn16_4").augment}  # e.g. its flips kept
    hp = keras_tuner.HyperParameters()
    hp.values.update(depth=2)
    assert ZooHyperModel("resnet20").declare(hp.copy())[1]["stackwise_num_blocks"] == (2, 2, 2)
    assert ZooHyperModel("lstm").declare(hp.copy())[1]["num_layers"] == 2
    depth = {p.name: p for p in ZooHyperModel("resnet56").space.space}["depth"]
    assert depth.values == [1, 2, 3, 5, 9] and depth.default == 9  # its own depth is a choice


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
    assert space["learning_rate"].sampling == "log"  # the declaration's own sampling kept
    assert space["batch_size"].values == [32, 64]
    assert hp.values["batch_size"] == 64  # the recipe's 128 is outside: the closest choice
    assert hp.values["learning_rate"] == 1e-3  # the recipe's 2e-3, clipped to the range


def test_one_rule_for_ranges_and_choices():
    declared = {p.name: p for p in ZooHyperModel("softmax").space.space}
    rate = parse_domain(declared["learning_rate"], (1e-3, 1e-1))
    assert type(rate).__name__ == "Float" and (rate.min_value, rate.max_value) == (1e-3, 1e-1)
    choices = parse_domain(declared["learning_rate"], [1e-3, 1])
    assert type(choices).__name__ == "Choice" and choices.values == [1e-3, 1.0]
    assert all(isinstance(v, float) for v in choices.values)  # JSON's 1 is a float here
    strength = parse_domain(declared["regularizer_strength"], 1e-3, fixed=True)
    assert strength.conditions == declared["regularizer_strength"].conditions
    # JSON has no tuples: a two-number list is a range only for a continuous hyperparameter.
    assert json_space("softmax", {"learning_rate": [1e-3, 1e-2], "batch_size": [32, 64]}) == {
        "learning_rate": (1e-3, 1e-2), "batch_size": [32, 64]}


def test_make_regularizer():
    assert make_regularizer("none") is None
    assert isinstance(make_regularizer("l1", 1e-3), keras.regularizers.L1)
    assert isinstance(make_regularizer("group_lasso", 1e-3), regularizers.GroupLasso)
    assert make_regularizer("l12", 2e-3).factor == pytest.approx(2e-3)
    with pytest.raises(UsageError, match="Unknown regularizer 'l3'"):
        make_regularizer("l3")


@pytest.mark.parametrize("kwargs, match", [
    ({"model_name": "vgg"}, "Unknown model 'vgg'"),
    ({"space": {"learning_rate": (1, 10)}}, r"learning_rate .* in \(0, 1\]. Received: learning_rate=10.0 \(from space\['learning_rate'\]\)"),
    ({"fixed": {"dropout": 1.5}}, r"Expected dropout in \[0, 1\)\. Received: dropout=1.5 \(from fixed\['dropout'\]\)"),
    ({"fixed": {"momentum": 0.9}}, "Unknown hyperparameter 'momentum' in fixed"),
    ({"fixed": {"regularizer": "l3"}}, r"Unknown regularizer 'l3'.* \(from fixed\['regularizer'\]\)"),
    ({"space": {"learning_rate": (1e-2, 1e-4)}}, r"0 < min < max. Received: space\['learning_rate'\]=\(0.01, 0.0001\)"),
    ({"space": {"learning_rate": (0, 1e-4)}}, "0 < min < max"),
    ({"space": {"learning_rate": ("a", 1e-4)}}, "0 < min < max"),
    ({"space": {"learning_rate": [float("nan")]}}, "Received: learning_rate=nan"),
    ({"space": {"batch_size": []}}, "non-empty list"),
    ({"space": {"batch_size": (32, 64)}}, "list of choices"),
    ({"space": {"batch_size": [64, -1]}}, r"Received: batch_size=-1 \(from space\['batch_size'\]\)"),
    ({"space": {"batch_size": [64, 32.5]}}, "all of one type"),
    ({"space": {"q": [0.0, 0.5]}}, r"Received: q=0.0 \(from space\['q'\]\)"),
    ({"space": {"regularizer_strength": [-1.0]}}, "Received: regularizer_strength=-1.0"),
    ({"space": {"nonneg": ["yes"]}}, "Received: nonneg='yes'"),
    ({"space": {"width": [0, 1]}}, "Received: width=0"),
    ({"space": {"depth": [0, 1]}}, "Received: depth=0"),
    ({"space": {"augment_translate": [0.6]}}, "Received: augment_translate=0.6"),
    ({"fixed": {"dropout": 0.5}, "space": {"dropout": [0.1, 0.2]}}, r"not both. Received: \['dropout'\]"),
    ({"space": ["learning_rate"]}, "Expected space to be a dict"),
    ({"epochs": 0}, "Received: epochs=0"),
])
def test_constructor_errors(kwargs, match):
    kwargs = {"model_name": "cnn", **kwargs}
    with pytest.raises(UsageError, match=match):
        ZooHyperModel(**kwargs)


def test_softmax_has_no_width():
    with pytest.raises(ValueError, match="Unknown hyperparameter 'width' in space for model 'softmax'"):
        ZooHyperModel("softmax", space={"width": [2.0]})


@pytest.mark.parametrize("kwargs, match", [
    ({"fixed": {"dropout": [0.5]}}, r"Expected fixed\['dropout'\] to be a number.*Received: fixed\['dropout'\]=\[0.5\]"),
    ({"space": {"batch_size": [[64]]}}, r"Expected space\['batch_size'\] to be a number.*all of one type"),
    ({"space": {"width": [100.0]}}, r"width .* \(0, 8\]"),
    ({"space": {"depth": [10**6]}}, r"Expected depth in \[1, 200\]"),
])
def test_values_kerastuner_cannot_hold_or_the_machine_cannot_build(kwargs, match):
    with pytest.raises(UsageError, match=match):
        ZooHyperModel("cnn", **kwargs)
