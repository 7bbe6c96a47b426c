"""A speed-run CNN in the style of airbench (Jordan, "94% on CIFAR-10 in 3.29 Seconds on a Single
GPU", 2024): plain conv-BN-GELU blocks with max-pooling, no residuals, a global max-pool head.

Built for time-to-accuracy rather than parameter count: few, wide layers that keep a GPU busy,
batch norm so a short, high learning-rate schedule is stable, and a recipe with on-device
pad-and-crop shifts and flips (`RandomShift`), label smoothing and flip test-time augmentation.
"""

import functools

import keras

from keras_seminar.models import _common
from keras_seminar.models import hyperparameters as hps
from keras_seminar.models.fast_cnn import BN, apply_fast_block
from keras_seminar.models.registry import ModelSpec, Recipe, register

__all__ = ["apply_speedrun_block", "build_speedrun", "RECIPE", "search_space"]

# Adam + one-cycle at batch 256, label smoothing 0.2, shifts of up to 2 pixels and flips (where
# labels survive them), flip test-time augmentation. Train it with `--fused` (data resident
# on the device) and `--precision mixed_bfloat16` on a GPU.
RECIPE = Recipe(epochs=16, batch_size=256, optimizer="adam", learning_rate=3e-3,
                schedule="onecycle", warmup=0.15, label_smoothing=0.2,
                augment={"shift": 2, "flip": True}, tta=True)




def apply_speedrun_block(x, filters, activation, kernel_regularizer, kernel_constraint, name):
    """conv3x3 -> 2x2 max-pool -> BN -> act -> conv3x3 -> BN -> act (airbench's ConvGroup)."""
    x = apply_fast_block(x, filters, activation, kernel_regularizer, kernel_constraint, name,
                         suffix="1")
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False,
                            kernel_regularizer=kernel_regularizer,
                            kernel_constraint=kernel_constraint, name=f"{name}_conv2")(x)
    x = keras.layers.BatchNormalization(**BN, name=f"{name}_bn2")(x)
    return keras.layers.Activation(activation, name=f"{name}_act2")(x)


# No `dropout` (batch norm and a short schedule regularize it, as in airbench).
def build_speedrun(input_shape=(28, 28, 1), num_classes=10, stem_filters=24,
                   stackwise_num_filters=(64, 256, 256), activation="gelu",
                   kernel_regularizer=None, kernel_constraint=None, output_constraint=None,
                   classifier_activation="softmax", augment=None, name="speedrun"):
    """Stem conv -> one `apply_speedrun_block` per stage (each halves the size) -> global max-pool.

    On 28x28 inputs the stages run at 28 -> 14, 14 -> 7 and 7 -> 3.

    Args:
        stem_filters: filters of the first 3x3 convolution.
        stackwise_num_filters: filters of each stage.
        activation: after every batch norm ("gelu", airbench's).
        kernel_regularizer: applied to every kernel.
        kernel_constraint: applied to every conv kernel.
        output_constraint: applied to the classifier kernel; defaults to `kernel_constraint`.
        augment: training-time augmentation, e.g. `{"shift": 2, "flip": True}`.
        Other arguments as in `build_cnn`.

    Example:
        >>> model = build_speedrun(stackwise_num_filters=[32, 128, 128])
    """
    _common.check_positive_ints("stem_filters", stem_filters)
    filters = _common.check_positive_ints("stackwise_num_filters", stackwise_num_filters)
    keras.activations.get(activation)  # raises ValueError naming an unknown activation
    reg, constraint, out_constraint = _common.kernel_options(kernel_regularizer, kernel_constraint,
                                                             output_constraint)
    inputs = keras.Input(input_shape, name="images")
    x = _common.augmentation(inputs, augment)
    x = keras.layers.Conv2D(stem_filters, 3, padding="same", use_bias=False, kernel_regularizer=reg,
                            kernel_constraint=constraint, name="stem_conv")(x)
    x = keras.layers.BatchNormalization(**BN, name="stem_bn")(x)
    x = keras.layers.Activation(activation, name="stem_act")(x)
    for i, f in enumerate(filters):
        x = apply_speedrun_block(x, f, activation, reg, constraint, name=f"stage{i + 1}")
    x = keras.layers.GlobalMaxPooling2D(name="pool")(x)
    outputs = _common.classifier_head(x, num_classes, classifier_activation, out_constraint, reg)
    return keras.Model(inputs, outputs, name=name)


def search_space(hp, defaults):
    """`tune`: 2-3 stages, the stem's and every stage's filters times a width multiplier."""
    filters, width = defaults["stackwise_num_filters"], hps.width(hp)
    return {"stackwise_num_filters": hps.scale(hps.resize(filters, hps.depth(hp, [2, 3], len(filters))), width),
            "stem_filters": hps.scale(defaults["stem_filters"], width)}


register(ModelSpec("speedrun", build_speedrun, RECIPE,
                   "airbench-style speed-run CNN: conv-BN-GELU blocks 64/256/256, max-pool",
                   search_space))
register(ModelSpec("speedrun_small",
                   functools.partial(build_speedrun, stem_filters=16,
                                     stackwise_num_filters=(32, 128, 128), name="speedrun_small"),
                   RECIPE, "speedrun at a quarter of the width (16; 32/128/128): CPU-sized",
                   search_space))
