"""Which trials are results: a trial whose loss rose, or whose validation accuracy is at chance
is FAILED, so it can never become the search's best (one that diverged already is: the training
engine raises `TrainingDiverged`, which the tuner turns into a failed trial).

The rule is `keras_seminar.training.health_warnings`, the one `keras-seminar train` applies,
read on the validation accuracy (the best epoch's, as KerasTuner scores a trial).

Example:
    >>> history = fit_model(model, x, y, batch_size=64, validation_data=(xv, yv))
    >>> check_trial(history.history, num_classes=10)  # raises FailedTrialError
"""

import keras_tuner

from keras_seminar.training import health_warnings

__all__ = ["check_trial", "trial_problems"]


def trial_problems(history, num_classes):
    """Why a fitted trial is not a result (a list of reasons; empty when it is one)."""
    accuracy = history.get("val_accuracy") or []
    return health_warnings(history, {"accuracy": max(accuracy) if accuracy else 1.0}, num_classes,
                           split="validation")


def check_trial(history, num_classes):
    """Raises `keras_tuner.errors.FailedTrialError` (KerasTuner marks the trial FAILED) when
    `trial_problems` finds anything."""
    problems = trial_problems(history, num_classes)
    if problems:
        raise keras_tuner.errors.FailedTrialError("Not a result: " + "; ".join(problems) + ".")
