"""keras_seminar: a deep-learning research seminar as a Keras 3 package.

Importing the package registers its serializable objects (losses, layers, regularizers,
constraints, schedules) under the package name "keras_seminar", so a saved `.keras` file
reloads in a fresh process with `safe_mode=True` and no `custom_objects`, and adds the string
aliases ("l12", "l1/2", "lq", "group_lasso", "activity_sparsity", "nonneg", "nonneg_max_norm")
to the names `keras.regularizers.get` / `keras.constraints.get` resolve, so any Keras layer
takes them: `keras.layers.Dense(4, kernel_regularizer="l12")`.
"""

import os

__version__ = "0.1.0"

# TensorFlow's C++ start-up chatter (oneDNN, CPU-feature notices) drowns the progress bar; a
# user's own setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_seminar.backend.choice import choose as _choose_backend  # noqa: E402
from keras_seminar.backend.quiet import import_tensorflow_quietly  # noqa: E402

_choose_backend()  # only where no backend was chosen and TensorFlow is missing

import_tensorflow_quietly()  # TF prints its oneDNN notice before reading the level above

# Importing these registers every serializable object under "keras_seminar".
from keras_seminar import (  # noqa: E402,F401
    constraints,
    fixed_point_sgd,
    layers,
    losses,
    regularizers,
    schedules,
)

__all__ = ["__version__"]
