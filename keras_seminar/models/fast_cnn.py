"""A CNN built for time-to-accuracy on a laptop CPU (the package's default model).

Measured, not guessed (`benchmarks/cpu_speed.py`, TensorFlow on a 2-core CPU): what costs time
there is the full-resolution stage, not the FLOPs. Its backward pass through a convolution of a
single input channel and the batch norm and activation over 28x28 maps are memory-bound, so
each stage pools right after its convolution and normalizes the pooled map (airbench's
order; 2x faster than conv-BN-act-pool at equal accuracy), and the first stage keeps 16
filters (32 doubled the epoch time). A 128-unit dense layer on the 3x3x64 features buys more
accuracy per second than more convolution. Batch 256 (oneDNN's sweet spot here), Adam at a
high peak rate under one-cycle, label smoothing 0.1: 3 epochs pass 91% on Fashion-MNIST.
"""

import keras

from keras_seminar.models import _common
from keras_seminar.models import hyperparameters as hps
from keras_seminar.models.registry import ModelSpec, Recipe, register

__all__ = ["apply_fast_block", "BN", "build_fast_cnn", "RECIPE", "search_space"]

# 10 epochs for the default command (>= 92% on Fashion-MNIST within 3 minutes on 2 cores);
# `--epochs 3` is the fast path to 91%. Shifts and flips slow early epochs more than they help
# in a run this short, so there is no augmentation.
RECIPE = Recipe(epochs=10, batch_size=256, optimizer="adam", learning_rate=8e-3,
                schedule="onecycle", warmup=0.2, label_smoothing=0.1, augment=None)

BN = {"momentum": 0.9, "epsilon": 1e-5}  # airbench's; speedrun shares it


def apply_fast_block(x, filters, activation, kernel_regularizer, kernel_constraint, name,
                     suffix=""):
    """conv3x3 (no bias) -> 2x2 max-pool -> BN -> activation: the costly maps stay small.

    Layers are named `{name}_conv{suffix}`, `{name}_pool`, `{name}_bn{suffix}`,
    `{name}_act{suffix}` (speedrun's block starts with this one, suffix "1").
    """
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False,
                            kernel_regularizer=kernel_regularizer,
                            kernel_constraint=kernel_constraint, name=f"{name}_conv{suffix}")(x)
    x = keras.layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    x = keras.layers.BatchNormalization(**BN, name=f"{name}_bn{suffix}")(x)
    return keras.layers.Activation(activation, name=f"{name}_act{suffix}")(x)


def build_fast_cnn(input_shape=(28, 28, 1), num_classes=10, stackwise_num_filters=(16, 32, 64),
                   dense_units=128, dropout=0.0, activation="relu", kernel_regularizer=None,
                   kernel_constraint=None, output_constraint=None,
                   classifier_activation="softmax", augment=None, name="fast_cnn"):
    """One `apply_fast_block` per stage (28 -> 14 -> 7 -> 3), flatten, dense, classifier.

    Args:
        stackwise_num_filters: filters of each stage.
        dense_units: units of the hidden dense layer (0 for none).
        dropout: dropout rate before the classifier.
        Other arguments as in `build_cnn`.

    Example:
        >>> model = build_fast_cnn(stackwise_num_filters=[16, 32, 64], dense_units=128)
    """
    filters = _common.check_positive_ints("stackwise_num_filters", stackwise_num_filters)
    if isinstance(dense_units, bool) or not isinstance(dense_units, int) or dense_units < 0:
        raise ValueError(f"Expected dense_units to be an int >= 0. Received: dense_units={dense_units!r}")
    dropout = _common.check_rate("dropout", dropout)
    keras.activations.get(activation)  # raises ValueError naming an unknown activation
    reg, constraint, out_constraint = _common.kernel_options(kernel_regularizer, kernel_constraint,
                                                             output_constraint)
    inputs = keras.Input(input_shape, name="images")
    x = _common.augmentation(inputs, augment)
    for i, f in enumerate(filters):
        x = apply_fast_block(x, f, activation, reg, constraint, name=f"stage{i + 1}")
    x = keras.layers.Flatten(name="flatten")(x)
    if dense_units:
        x = keras.layers.Dense(dense_units, activation=activation, kernel_regularizer=reg,
                               kernel_constraint=constraint, name="fc1")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = _common.classifier_head(x, num_classes, classifier_activation, out_constraint, reg)
    return keras.Model(inputs, outputs, name=name)


def search_space(hp, defaults):
    """`tune`: 2-3 stages, filters and dense units times a width multiplier."""
    filters, width = defaults["stackwise_num_filters"], hps.width(hp)
    return {"stackwise_num_filters": hps.scale(hps.resize(filters, hps.depth(hp, [2, 3], len(filters))), width),
            "dense_units": hps.scale(defaults["dense_units"], width)}


register(ModelSpec("fast_cnn", build_fast_cnn, RECIPE,
                   "CPU time-to-accuracy CNN: conv-pool-BN-ReLU 16/32/64, dense 128 (the default)",
                   search_space))
