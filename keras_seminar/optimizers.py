"""The optimizer kinds a `Recipe` names, in one place (training and saving both build them).

Example:
    >>> optimizer = optimizer_for("adamw", 1e-3, weight_decay=5e-4)
"""

import keras

__all__ = ["optimizer_for", "OPTIMIZERS"]

OPTIMIZERS = ("adam", "adamw", "sgd")


def optimizer_for(name, learning_rate, weight_decay=0.0):
    """A fresh Keras optimizer of kind `name` ("adam", "adamw", "sgd": Nesterov momentum 0.9).

    Args:
        name: one of `OPTIMIZERS`.
        learning_rate: a float or a `keras.optimizers.schedules.LearningRateSchedule`.
        weight_decay: decoupled weight decay (adamw, sgd); 0 for none.
    """
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True,
                                    weight_decay=weight_decay or None)
    raise ValueError(f"Unknown optimizer {name!r}. Expected one of {list(OPTIMIZERS)}.")
