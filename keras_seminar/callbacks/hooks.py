"""`TrainingCallback`: a Keras callback that also hears the training engine's own events."""

import keras

__all__ = ["TrainingCallback"]


class TrainingCallback(keras.callbacks.Callback):
    """The hook protocol of `keras_seminar.training.fit_model`, beside Keras's own hooks.

    Every hook here is a documented no-op, as in `keras.callbacks.Callback`: subclass it and
    override the ones you need. Plain Keras callbacks work with the engine too; they only do
    not hear these.

    Example:
        >>> class Notes(TrainingCallback):
        ...     def rollback_note(self):
        ...         return "; the weights of epoch 3 are in runs/a/backup"
    """

    def rollback_note(self):
        """Called after the NaN guard stopped a `fit_model`, before it raises `TrainingDiverged`.

        Returns:
            What this callback kept of the diverged run, as a clause the error message appends
            (starting with "; "), or "" when it has nothing to say (the default).
        """
        return ""
