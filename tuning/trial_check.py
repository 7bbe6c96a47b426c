"""Which trials are results: a trial that diverged, whose loss rose, or whose validation accuracy
is at chance is FAILED, so it can never become the search's best.

The rule is `keras_seminar.training.health_warnings`, the one `keras-seminar train` applies,
read on the validation accuracy (the best epoch's, as KerasTuner scores a trial); divergence is
`keras_seminar.callbacks.NaNGuard`'s.

Example:
    >>> guard = NaNGuard()
    >>> history = model.fit(x, y, callbacks=[guard], validation_data=(xv, yv))
    >>> check_trial(guard, history.history, num_classes=10)  # raises FailedTrialError
"""

import keras_tuner

from keras_seminar.training import health_warnings

__all__ = ["check_trial", "trial_problems"]


def trial_problems(guard, history, num_classes):
    """Why a fitted trial is not a result (a list of reasons; empty when it is one)."""
    if guard.diverged_at is not None:
        epoch, batch, loss = guard.diverged_at
        return [f"diverged: loss={loss} at epoch {epoch + 1}, batch {batch}"]
    accuracy = history.get("val_accuracy") or []
    return health_warnings(history, {"accuracy": max(accuracy) if accuracy else 1.0}, num_classes,
                           split="validation")


def check_trial(guard, history, num_classes):
    """Raises `keras_tuner.errors.FailedTrialError` (KerasTuner marks the trial FAILED) when
    `trial_problems` finds anything."""
    problems = trial_problems(guard, history, num_classes)
    if problems:
        raise keras_tuner.errors.FailedTrialError("Not a result: " + "; ".join(problems) + ".")
