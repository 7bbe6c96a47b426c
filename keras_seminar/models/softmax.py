"""Softmax regression: the TensorFlow "MNIST for ML beginners" tutorial model."""

import keras

from keras_seminar.models import _common
from keras_seminar.models.registry import Recipe, register

# Adam at 1e-3 for 20 epochs; a linear model converges long before that.
RECIPE = Recipe(epochs=20, batch_size=128, learning_rate=1e-3)


@register("softmax", RECIPE, "Softmax regression (TensorFlow beginners tutorial)")
def build_softmax(input_shape=(28, 28, 1), num_classes=10, kernel_regularizer=None,
                  kernel_constraint=None, classifier_activation="softmax", name="softmax"):
    """A single Dense layer on the flattened image.

    Args:
        input_shape: image shape, e.g. (28, 28, 1).
        num_classes: number of classes.
        kernel_regularizer: e.g. "l1", "l12", a regularizer object or None.
        kernel_constraint: e.g. "nonneg" or a constraint object.
        classifier_activation: "softmax" or None for logits.
    """
    inputs = keras.Input(input_shape, name="images")
    x = keras.layers.Flatten(name="flatten")(inputs)
    outputs = _common.classifier_head(
        x, num_classes, classifier_activation,
        output_constraint=_common.get_constraint(kernel_constraint),
        kernel_regularizer=_common.get_regularizer(kernel_regularizer))
    return keras.Model(inputs, outputs, name=name)
