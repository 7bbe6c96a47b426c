"""LeNet-5 (LeCun, Bottou, Bengio, Haffner, "Gradient-based learning applied to document
recognition", Proc. IEEE 1998), adapted to 28x28 inputs.

The paper pads 28x28 digits to 32x32; a "same" first convolution does the same job, so the
feature maps keep the paper's sizes: 28x28x6 -> 14x14x6 -> 10x10x16 -> 5x5x16 -> 120 -> 84.
The paper's scaled tanh, trainable sub-sampling, partial C3 connections and RBF output are
replaced by their standard modern stand-ins (activation / pooling options, full C3, softmax).
"""

import keras

from keras_seminar.models import _common
from keras_seminar.models import hyperparameters as hps
from keras_seminar.models.registry import ModelSpec, Recipe, register

__all__ = ["apply_lenet_stage", "build_lenet5", "RECIPE", "search_space"]

# ~61.7k parameters: 8.5 s/epoch on a 2-core CPU (TF), so 20 epochs take ~3 min. Adam with a
# one-cycle schedule; +-10% random translations are worth ~0.2% on MNIST and are label-safe on
# both data sets (no flips: the recipe is per model and flips are wrong for digits).
RECIPE = Recipe(epochs=20, batch_size=128, optimizer="adam", learning_rate=3e-3,
                schedule="onecycle", label_smoothing=0.0, augment={"translate": 0.1})

_POOLING = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}


def apply_lenet_stage(x, filters, kernel_size, padding, activation, pooling, kernel_regularizer,
                      kernel_constraint, name):
    """Convolution (C1/C3) followed by 2x2 sub-sampling (S2/S4)."""
    x = keras.layers.Conv2D(filters, kernel_size, padding=padding, activation=activation,
                            kernel_regularizer=kernel_regularizer,
                            kernel_constraint=kernel_constraint, name=f"{name}_conv")(x)
    return _POOLING[pooling](2, name=f"{name}_pool")(x)


def build_lenet5(input_shape=(28, 28, 1), num_classes=10, stackwise_num_filters=(6, 16),
                 dense_units=(120, 84), kernel_size=5, pooling="max", activation="relu",
                 dropout=0.0, kernel_regularizer=None, kernel_constraint=None,
                 output_constraint=None, classifier_activation="softmax", augment=None,
                 name="lenet5"):
    """LeNet-5: two conv + sub-sampling stages, two dense layers, the classifier.

    Args:
        input_shape: image shape, e.g. (28, 28, 1).
        num_classes: number of classes.
        stackwise_num_filters: filters of C1, C3 (the first conv is "same", the rest "valid").
        dense_units: units of the dense layers (C5/F6 in the paper).
        kernel_size: size of every convolution.
        pooling: "max" (default, trains faster) or "average" (the paper's sub-sampling).
        activation: hidden activation, "relu" (default) or "tanh" (the paper's).
        dropout: dropout before the classifier (0 in the paper).
        kernel_regularizer: applied to every conv/dense kernel.
        kernel_constraint: applied to every hidden kernel.
        output_constraint: applied to the last hidden->output kernel; defaults to
            `kernel_constraint`.
        classifier_activation: "softmax" or None for logits.
        augment: training-time augmentation, e.g. `{"translate": 0.1}`.

    Example:
        >>> model = build_lenet5(activation="tanh", pooling="average")  # closest to 1998
    """
    filters = _common.check_positive_ints("stackwise_num_filters", stackwise_num_filters)
    units = _common.check_positive_ints("dense_units", dense_units)
    _common.check_positive_ints("kernel_size", kernel_size)
    if pooling not in _POOLING:
        raise ValueError(f"Expected pooling in {sorted(_POOLING)}. Received: pooling={pooling!r}")
    activation = keras.activations.get(activation)
    dropout = _common.check_rate("dropout", dropout)
    reg, constraint, out_constraint = _common.kernel_options(kernel_regularizer, kernel_constraint,
                                                             output_constraint)

    inputs = keras.Input(input_shape, name="images")
    x = _common.augmentation(inputs, augment)
    for i, f in enumerate(filters):
        x = apply_lenet_stage(x, f, kernel_size, "same" if i == 0 else "valid", activation,
                              pooling, reg, constraint, name=f"stage{i + 1}")
    x = keras.layers.Flatten(name="flatten")(x)
    for i, u in enumerate(units):
        x = keras.layers.Dense(u, activation=activation, kernel_regularizer=reg,
                               kernel_constraint=constraint, name=f"fc{i + 1}")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = _common.classifier_head(x, num_classes, classifier_activation, out_constraint, reg)
    return keras.Model(inputs, outputs, name=name)


def search_space(hp, defaults):
    """`tune`: every layer's filters / units times a width multiplier (depth is the paper's)."""
    width = hps.width(hp)
    return {"stackwise_num_filters": hps.scale(defaults["stackwise_num_filters"], width),
            "dense_units": hps.scale(defaults["dense_units"], width)}


register(ModelSpec("lenet5", build_lenet5, RECIPE,
                   "LeNet-5 (LeCun 1998): conv5x5 6 + pool, conv5x5 16 + pool, 120, 84",
                   search_space))
