"""TrainConfig and its Plan: what the recipe decides (test-time flips, builder options), the
checks made once, and what the card keeps."""

import dataclasses
import json

import keras
import pytest

from keras_seminar import datasets
from keras_seminar.training import TrainConfig, build_for, resolve, train


@pytest.mark.parametrize("dataset, tta, expected", [
    ("fashion_mnist", None, True),   # the Maxout MLP's recipe asks for flips at test time
    ("mnist", None, False),          # ... but never for digits
    ("fashion_mnist", False, False),
    ("fashion_mnist", True, True),
])
def test_tta_follows_the_recipe_where_labels_survive_flips(dataset, tta, expected, tmp_path):
    runs = str(tmp_path)
    assert resolve(TrainConfig(model="maxout_mlp", dataset=dataset, tta=tta, runs_dir=runs)).recipe.tta is expected
    assert resolve(TrainConfig(model="cnn", dataset=dataset, tta=tta, runs_dir=runs)).recipe.tta is bool(tta)


@pytest.mark.parametrize("kwargs, match", [
    ({"tta": True, "dataset": "mnist"}, "tta=False for 'mnist'"),
    ({"tta": "yes"}, "tta='yes'"),
])
def test_bad_tta(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        resolve(TrainConfig(**kwargs, runs_dir=str(tmp_path)))


def test_recipe_builder_options_sit_under_the_users(fashion):
    model = build_for(TrainConfig(model="maxout_mlp"), fashion)
    assert model.get_layer("maxout1_dropout").rate == 0.3
    assert isinstance(model.get_layer("maxout1").kernel_constraint, keras.constraints.MaxNorm)
    model = build_for(TrainConfig(model="maxout_mlp", model_options={"dropout": 0.1}), fashion)
    assert model.get_layer("maxout1_dropout").rate == 0.1


def test_card_keeps_keras_objects_passed_as_options(tmp_path):
    # A Python caller may pass objects; the JSON card must still be written after training.
    result = train(TrainConfig(
        model="softmax", epochs=1, train_limit=256, test_limit=64,
        model_options={"kernel_constraint": keras.constraints.MaxNorm(2.0)},
        runs_dir=str(tmp_path / "runs"), models_dir=str(tmp_path / "models"), verbose=0))
    with open(tmp_path / "runs" / result["run_name"] / "metrics.json") as f:
        options = json.load(f)["model_options"]
    assert options["kernel_constraint"]["class_name"] == "MaxNorm"
    assert options["kernel_constraint"]["config"]["max_value"] == 2.0
    card = json.loads((tmp_path / "models" / f"{result['run_name']}.json").read_text())
    assert card["plan"]["training"]["model_options"]["kernel_constraint"]["class_name"] == "MaxNorm"


def test_the_plan_is_resolved_once_and_recorded(tmp_path):
    config = TrainConfig(model="resnet20", dataset="mnist", epochs=3, runs_dir=str(tmp_path),
                         model_options={"dropout": 0.0})
    plan = resolve(config)
    assert plan.recipe.epochs == 3 and "flip" not in (plan.recipe.augment or {})  # digits
    assert plan.model_options["augment"] == plan.recipe.augment and plan.model_options["dropout"] == 0.0
    assert plan.model_path == str(tmp_path / "resnet20_mnist_s0" / "resnet20_mnist_s0.keras")
    record = plan.record()
    assert record["epochs"] == 3 and record["training"]["model"] == "resnet20"
    assert "epochs" not in record["training"]["recipe"]  # more epochs may extend a run
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.recipe = None
    fashion = resolve(dataclasses.replace(config, dataset="fashion_mnist"))
    assert fashion.recipe.augment.get("flip") and datasets.DATASETS["fashion_mnist"].HORIZONTAL_FLIP_SAFE


def test_fit_arrays_is_the_fit_step(mnist):
    from keras_seminar import models
    from keras_seminar.errors import TrainingDiverged
    from keras_seminar.training import fit_arrays, images_to_inputs, recipe_for

    x, y = images_to_inputs(mnist.x_train[:512]), mnist.y_train[:512]
    recipe = recipe_for("softmax", epochs=2, batch_size=64)
    assert recipe.epochs == 2 and recipe.optimizer == models.get_spec("softmax").recipe.optimizer
    history = fit_arrays(models.build_model("softmax"), recipe, x, y, seed=0)
    assert len(history.history["loss"]) == 2 and history.history["loss"][1] < history.history["loss"][0]
    with pytest.raises(TrainingDiverged, match="Lower the learning rate"):
        fit_arrays(models.build_model("softmax"), recipe_for("softmax", learning_rate=1e38), x, y)
