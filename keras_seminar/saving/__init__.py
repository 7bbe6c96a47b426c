"""Saving and loading models safely: `.keras` only, atomic writes, sha256 model cards, safe_mode.

A saved model is `NAME.keras` plus `NAME.json`, its model card (architecture, parameter count,
data, recipe, metrics, command, backend, versions and the file's sha256). `load_model` requires
the card by default, inspects the zip before Keras opens it (`archive.inspect_model_file`), and
compiles a model from its card when the file holds no usable compile state (slim files, or files
saved under another backend).

The card protects against accidents (a truncated download, a swapped or half-written file), not
against an attacker who can rewrite both the model and its card; `safe_mode` and the archive
checks are what stand between a hostile file and your process.

Example:
    >>> from keras_seminar.saving import load_model
    >>> model = load_model("saved_models/softmax_fashion_mnist.keras")  # compiled from its card
    >>> model.evaluate(x_test, y_test)
"""

from keras_seminar._provenance import environment
from keras_seminar.saving.archive import MAX_CONFIG_BYTES, MAX_MODEL_BYTES, inspect_model_file
from keras_seminar.saving.card import (
                                       ModelFileError,
                                       UnsafeModelFileError,
                                       card_path,
                                       compile_from_card,
                                       read_card,
)
from keras_seminar.saving.model_file import load_model, save_model

__all__ = ["MAX_CONFIG_BYTES", "MAX_MODEL_BYTES", "ModelFileError", "UnsafeModelFileError",
           "card_path", "compile_from_card", "environment", "inspect_model_file", "load_model",
           "read_card", "save_model"]
