"""The model zoo: `build_model(name, **options)` for every family of the seminar.

A family registers its `ModelSpec`s from its own file; importing the file here registers it.
"""

from keras_seminar.models import (  # noqa: F401  (registration)
    cnn,
    densenet,
    fast_cnn,
    lenet,
    lstm,
    maxout,
    mlp,
    nin,
    resnet,
    softmax,
    speedrun,
    speedrun_cpu,
)
from keras_seminar.models._pretrained import pretrained, pretrained_path
from keras_seminar.models.registry import (
    ModelSpec,
    Recipe,
    available,
    build_model,
    describe,
    get_recipe,
    get_spec,
)

__all__ = ["ModelSpec", "Recipe", "available", "build_model", "describe", "get_recipe", "get_spec",
           "pretrained", "pretrained_path"]
