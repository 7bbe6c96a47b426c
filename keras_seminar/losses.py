"""Losses Keras lacks: sparse cross-entropy with label smoothing."""

import numbers

import keras
from keras import ops

__all__ = ["SparseCategoricalCrossentropy"]


@keras.saving.register_keras_serializable(package="keras_seminar")
class SparseCategoricalCrossentropy(keras.losses.Loss):
    """Sparse cross-entropy with label smoothing (Szegedy et al. 2016).

    Keras's `SparseCategoricalCrossentropy` has no `label_smoothing`; this equals
    `CategoricalCrossentropy(label_smoothing=s)` on one-hot labels without building them.

    Args:
        label_smoothing: in [0, 1).
        from_logits: whether predictions are logits.
    """

    def __init__(self, label_smoothing=0.0, from_logits=False, name="sparse_categorical_crossentropy",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        if (
            isinstance(label_smoothing, bool)
            or not isinstance(label_smoothing, numbers.Real)
            or not 0 <= label_smoothing < 1
        ):
            raise ValueError(f"Expected label_smoothing in [0, 1). Received: label_smoothing={label_smoothing}")
        self.label_smoothing = float(label_smoothing)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        if self.from_logits:
            log_p = ops.log_softmax(y_pred, axis=-1)
        else:
            eps = keras.config.epsilon()
            log_p = ops.log(ops.clip(y_pred, eps, 1.0 - eps))
        num_classes = ops.shape(y_pred)[-1]
        y_true = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        nll = -ops.sum(ops.one_hot(y_true, num_classes, dtype=log_p.dtype) * log_p, axis=-1)
        smooth = -ops.mean(log_p, axis=-1)
        s = ops.cast(self.label_smoothing, log_p.dtype)
        return (1.0 - s) * nll + s * smooth

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing,
                "from_logits": self.from_logits}
