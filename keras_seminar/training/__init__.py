"""The one fit / evaluate / save path that the CLI, scripts, experiments and tuning share.

`TrainConfig` (what is asked) -> `resolve` -> `Plan` (what it means, once) -> `train`
(prepare -> fit -> evaluate -> write). `prepare_arrays` is the data preparation on its own,
`fit_arrays` the fit step (a recipe's compile, then the engine), and `fit_model` the training
engine every Keras `fit` of the package runs in (data order, NaN guard, steps per call, fused).

Example:
    >>> from keras_seminar.training import TrainConfig, train
    >>> result = train(TrainConfig(model="cnn", dataset="fashion_mnist", epochs=1))
    >>> result["test"]["accuracy"]
"""

from keras_seminar.errors import TrainingDiverged
from keras_seminar.training.config import PRECISIONS, TrainConfig
from keras_seminar.training.data import Arrays, prepare_arrays
from keras_seminar.training.engine import fit_model
from keras_seminar.training.evaluate import evaluate_saved
from keras_seminar.training.fit import (
    compile_model,
    fit_arrays,
    images_to_inputs,
    make_optimizer,
    test_metrics,
)
from keras_seminar.training.plan import Plan, build_for, flips_allowed, recipe_for, resolve
from keras_seminar.training.run import health_warnings, train

__all__ = ["PRECISIONS", "Arrays", "Plan", "TrainConfig", "TrainingDiverged", "build_for",
           "compile_model", "evaluate_saved", "fit_arrays", "fit_model", "flips_allowed",
           "health_warnings", "images_to_inputs", "make_optimizer", "prepare_arrays",
           "recipe_for", "resolve", "test_metrics", "train"]
