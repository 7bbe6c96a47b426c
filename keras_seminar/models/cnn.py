"""The TensorFlow "Deep MNIST for experts" tutorial CNN."""

import keras

from keras_seminar.models import _common
from keras_seminar.models import hyperparameters as hps
from keras_seminar.models.registry import ModelSpec, Recipe, register

__all__ = ["build_cnn", "RECIPE", "search_space"]

# Adam with a one-cycle schedule (warm-up, cosine decay) and light translation augmentation:
# the tutorial's architecture, trained the modern way so it passes 91% on Fashion-MNIST quickly.
RECIPE = Recipe(epochs=8, batch_size=128, learning_rate=2e-3, schedule="onecycle",
                label_smoothing=0.0, augment=None)


def build_cnn(input_shape=(28, 28, 1), num_classes=10, filters=(32, 64), kernel_size=5,
              dense_units=1024, dropout=0.5, activation="relu", kernel_regularizer=None,
              kernel_constraint=None, output_constraint=None, kernel_initializer=None,
              classifier_activation="softmax", augment=None, name="cnn"):
    """Conv(5x5, 32) - pool - Conv(5x5, 64) - pool - Dense(1024) - Dropout - Dense(classes).

    Args:
        filters: filters of each conv stage.
        kernel_size: conv kernel size.
        dense_units: units of the hidden dense layer.
        dropout: dropout rate before the classifier.
        activation: hidden activation.
        kernel_regularizer: applied to every conv/dense kernel.
        kernel_constraint: applied to every hidden kernel (e.g. "nonneg").
        output_constraint: applied to the hidden->output kernel only (positivity hypothesis);
            defaults to `kernel_constraint`.
        kernel_initializer: initializer of every kernel (e.g. a non-negative one for
            non-negative nets); None: each layer's Keras default.
        augment: training-time augmentation, e.g. `{"translate": 0.1, "flip": True}`.
    """
    filters = _common.check_positive_ints("filters", filters)
    dropout = _common.check_rate("dropout", dropout)
    if kernel_initializer is None:  # each layer builds its own default, as the zoo's models always did
        def initializer(shape):
            return "glorot_uniform"
    else:
        initializer = _common.kernel_initializers(kernel_initializer)
    reg, constraint, out_constraint = _common.kernel_options(kernel_regularizer, kernel_constraint,
                                                             output_constraint)
    inputs = keras.Input(input_shape, name="images")
    x = _common.augmentation(inputs, augment)
    for i, f in enumerate(filters):
        x = keras.layers.Conv2D(f, kernel_size, padding="same", activation=activation,
                                kernel_initializer=initializer((kernel_size, x.shape[-1], f)),
                                kernel_regularizer=reg, kernel_constraint=constraint, name=f"conv{i + 1}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(dense_units, activation=activation,
                           kernel_initializer=initializer((x.shape[-1], dense_units)), kernel_regularizer=reg, kernel_constraint=constraint, name="fc1")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = _common.classifier_head(x, num_classes, classifier_activation, out_constraint, reg,
                                      kernel_initializer=initializer((dense_units, num_classes)))
    return keras.Model(inputs, outputs, name=name)


def search_space(hp, defaults):
    """`tune`: 1-3 conv stages, filters and dense units times a width multiplier."""
    depth, width = hps.depth(hp, [1, 2, 3], len(defaults["filters"])), hps.width(hp)
    return {"filters": hps.scale(hps.resize(defaults["filters"], depth), width),
            "dense_units": hps.scale(defaults["dense_units"], width)}


register(ModelSpec("cnn", build_cnn, RECIPE,
                   "TF-tutorial CNN: 2x (conv5x5 + max-pool) 32/64, dense 1024, dropout",
                   search_space))
