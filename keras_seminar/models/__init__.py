"""The model zoo: `build_model(name, **options)` for every family of the seminar."""

from keras_seminar.models import cnn, lenet, lstm, maxout, nin, resnet, softmax, speedrun  # noqa: F401  (registration)
from keras_seminar.models.registry import Recipe, available, build_model, describe, get_recipe

__all__ = ["Recipe", "available", "build_model", "describe", "get_recipe"]
