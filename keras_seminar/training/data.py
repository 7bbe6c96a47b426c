"""`prepare_arrays`: the one place a loaded data set becomes the arrays a model trains on."""

import dataclasses

import numpy as np

from keras_seminar import _validators as v
from keras_seminar.training.fit import images_to_inputs

__all__ = ["Arrays", "prepare_arrays"]


@dataclasses.dataclass(frozen=True)
class Arrays:
    """Float32 images (N, 28, 28, 1) in [0, 1] and integer labels, per split."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def validation(self):
        """`(x_val, y_val)`, as `fit`'s `validation_data` takes it."""
        return (self.x_val, self.y_val)


def prepare_arrays(data, train_limit=None, val_limit=None, test_limit=None):
    """The arrays of `data` (a `datasets.load` result), each split cut to its limit.

    A limit keeps the first N images of its split (None keeps them all): `train`, `tune` and
    the experiments mean the same by `train_limit`. The training split is in the data set's
    file order, less the validation images the seeded, stratified split drew.

    Example:
        >>> arrays = prepare_arrays(datasets.load("mnist", seed=0), train_limit=1000)
        >>> arrays.x_train.shape
        (1000, 28, 28, 1)
    """
    train_limit, val_limit, test_limit = (v.check_int(name, value, 0, allow_none=True) for
                                          name, value in (("train_limit", train_limit),
                                                          ("val_limit", val_limit),
                                                          ("test_limit", test_limit)))
    return Arrays(images_to_inputs(data.x_train[:train_limit]), data.y_train[:train_limit],
                  images_to_inputs(data.x_val[:val_limit]), data.y_val[:val_limit],
                  images_to_inputs(data.x_test[:test_limit]), data.y_test[:test_limit])
