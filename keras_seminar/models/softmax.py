"""Softmax regression: the TensorFlow "MNIST for ML beginners" tutorial model."""

import keras

from keras_seminar.models import _common
from keras_seminar.models.registry import ModelSpec, Recipe, register

__all__ = ["build_softmax", "RECIPE"]

# Adam at 1e-3 for 20 epochs; a linear model converges long before that.
RECIPE = Recipe(epochs=20, batch_size=128, learning_rate=1e-3)

# One layer and no hidden units: `activation` and `dropout` have nothing to act on, and
# `augment` is left out (a linear model on flattened pixels is the permutation-invariant
# baseline). The only kernel is the input->output one, so both constraints reach it.
def build_softmax(input_shape=(28, 28, 1), num_classes=10, kernel_regularizer=None,
                  kernel_constraint=None, output_constraint=None, classifier_activation="softmax",
                  name="softmax"):
    """A single Dense layer on the flattened image.

    Args:
        input_shape: image shape, e.g. (28, 28, 1).
        num_classes: number of classes.
        kernel_regularizer: e.g. "l1", "l12", a regularizer object or None.
        kernel_constraint: e.g. "nonneg" or a constraint object.
        output_constraint: the same kernel's constraint, under the name other models use for
            their hidden->output kernel; defaults to `kernel_constraint`.
        classifier_activation: "softmax" or None for logits.

    Example:
        >>> model = build_softmax(kernel_constraint="nonneg")
    """
    reg, _, out_constraint = _common.kernel_options(kernel_regularizer, kernel_constraint,
                                                    output_constraint)
    inputs = keras.Input(input_shape, name="images")
    x = keras.layers.Flatten(name="flatten")(inputs)
    outputs = _common.classifier_head(x, num_classes, classifier_activation,
                                      output_constraint=out_constraint, kernel_regularizer=reg)
    return keras.Model(inputs, outputs, name=name)


register(ModelSpec("softmax", build_softmax, RECIPE,
                   "Softmax regression (TensorFlow beginners tutorial)"))
