"""DenseNet-BC (Huang, Liu, van der Maaten, Weinberger, "Densely Connected Convolutional
Networks", CVPR 2017), CIFAR-style, sized for 28x28 images.

Each dense block's layer sees the concatenation of every earlier feature map in the block:
BN-ReLU-Conv1x1(4k) -> BN-ReLU-Conv3x3(k) ("B", the bottleneck), then concatenated (growth rate
k). Between blocks a transition BN-ReLU-Conv1x1(theta * c)-AvgPool2 halves the resolution and
compresses the channels by theta = 0.5 ("C"). Depth L = 6n + 4 for three blocks of n layers
(two convolutions each), as in the paper's section 3 and Table 2 (DenseNet-BC L=100, k=12:
0.8M parameters, 4.51% CIFAR-10 error with augmentation). On 28x28 inputs the blocks run at
28x28, 14x14 and 7x7.

Example:
    >>> from keras_seminar.models import build_model
    >>> model = build_model("densenet_bc40")            # L=40, k=12
"""

import functools

import keras

from keras_seminar.models import _common
from keras_seminar.models import hyperparameters as hps
from keras_seminar.models.registry import ModelSpec, Recipe, register

__all__ = ["apply_dense_block", "apply_dense_layer", "apply_transition", "build_densenet", "RECIPE",
           "search_space"]

# The CIFAR recipe of the ResNets (SGD + Nesterov at 0.1, one-cycle, label smoothing 0.1, shifts
# and flips where labels survive them, flip TTA), with the paper's weight decay 1e-4. The paper
# trains 300 epochs at batch 64; 30 here, as for ResNet-20. DenseNet-BC-40 costs ~2x ResNet-20's
# multiply-adds per image: a Fashion-MNIST run is ~4.3 h on 2 idle CPU cores (zoo table).
RECIPE = Recipe(epochs=30, batch_size=128, optimizer="sgd", learning_rate=0.1,
                schedule="onecycle", warmup=0.05, weight_decay=1e-4, label_smoothing=0.1,
                augment={"shift": 2, "flip": True}, tta=True)

_BN_EPSILON = 1.001e-5


def _bn_relu(x, name):
    x = keras.layers.BatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x)


def _conv(x, filters, kernel_size, kernel_regularizer, kernel_constraint, name):
    return keras.layers.Conv2D(filters, kernel_size, padding="same", use_bias=False,
                               kernel_initializer="he_normal", kernel_regularizer=kernel_regularizer,
                               kernel_constraint=kernel_constraint, name=name)(x)


def apply_dense_layer(x, growth_rate, bottleneck=4, dropout=0.0, kernel_regularizer=None,
                      kernel_constraint=None, name="dense_layer"):
    """One composite layer: (BN-ReLU-Conv1x1(bottleneck * k)) -> BN-ReLU-Conv3x3(k) -> concat."""
    y = x
    if bottleneck:
        y = _bn_relu(y, f"{name}_1")
        y = _conv(y, bottleneck * growth_rate, 1, kernel_regularizer, kernel_constraint, f"{name}_1_conv")
    y = _bn_relu(y, f"{name}_2")
    y = _conv(y, growth_rate, 3, kernel_regularizer, kernel_constraint, f"{name}_2_conv")
    if dropout:
        y = keras.layers.Dropout(dropout, name=f"{name}_dropout")(y)
    return keras.layers.Concatenate(name=f"{name}_concat")([x, y])


def apply_dense_block(x, num_layers, growth_rate, name="block", **layer_options):
    """`num_layers` dense layers; the output has `channels + num_layers * growth_rate` maps."""
    for i in range(num_layers):
        x = apply_dense_layer(x, growth_rate, name=f"{name}_layer{i + 1}", **layer_options)
    return x


def apply_transition(x, compression=0.5, kernel_regularizer=None, kernel_constraint=None,
                     name="transition"):
    """BN-ReLU-Conv1x1(compression * channels) -> 2x2 average pooling."""
    channels = max(1, int(x.shape[-1] * compression))
    x = _bn_relu(x, name)
    x = _conv(x, channels, 1, kernel_regularizer, kernel_constraint, f"{name}_conv")
    return keras.layers.AveragePooling2D(2, name=f"{name}_pool")(x)


def build_densenet(input_shape=(28, 28, 1), num_classes=10, stackwise_num_layers=(6, 6, 6),
                   growth_rate=12, compression=0.5, bottleneck=4, dropout=0.0,
                   kernel_regularizer=None, kernel_constraint=None, output_constraint=None,
                   classifier_activation="softmax", augment=None, name="densenet"):
    """A DenseNet(-BC) built block by block from `apply_dense_block` / `apply_transition`.

    Args:
        input_shape: image shape, e.g. (28, 28, 1).
        num_classes: number of classes.
        stackwise_num_layers: dense layers per block; (6, 6, 6) is DenseNet-BC-40,
            (16, 16, 16) DenseNet-BC-100.
        growth_rate: k, feature maps each layer adds.
        compression: theta of the transitions, in (0, 1]; 1 is plain DenseNet ("B" only).
        bottleneck: the 1x1 convolution's width in multiples of k; 0 for none (no "B").
        dropout: dropout after each 3x3 convolution (the paper: 0.2 without augmentation).
        kernel_regularizer: applied to every conv kernel and the classifier kernel.
        kernel_constraint: applied to every conv kernel.
        output_constraint: applied to the classifier kernel; defaults to `kernel_constraint`.
        classifier_activation: "softmax" or None for logits.
        augment: training-time augmentation, e.g. `{"shift": 2, "flip": True}`.

    Example:
        >>> model = build_densenet(stackwise_num_layers=(16, 16, 16), growth_rate=12)  # BC-100
    """
    layers = _common.check_positive_ints("stackwise_num_layers", stackwise_num_layers)
    (growth_rate,) = _common.check_positive_ints("growth_rate", [growth_rate])
    if isinstance(compression, bool) or not isinstance(compression, (int, float)) or not 0 < compression <= 1:
        raise ValueError(f"Expected compression in (0, 1]. Received: compression={compression!r}")
    if isinstance(bottleneck, bool) or not isinstance(bottleneck, int) or bottleneck < 0:
        raise ValueError(f"Expected bottleneck to be an integer >= 0. Received: bottleneck={bottleneck!r}")
    if len(input_shape) != 3:
        raise ValueError(f"Expected input_shape (height, width, channels). Received: input_shape={input_shape!r}")
    dropout = _common.check_rate("dropout", dropout)
    reg, constraint, out_constraint = _common.kernel_options(kernel_regularizer, kernel_constraint,
                                                             output_constraint)

    inputs = keras.Input(input_shape, name="images")
    x = _common.augmentation(inputs, augment)
    x = _conv(x, 2 * growth_rate, 3, reg, constraint, "stem_conv")
    for b, n in enumerate(layers):
        x = apply_dense_block(x, n, growth_rate, bottleneck=bottleneck, dropout=dropout,
                              kernel_regularizer=reg, kernel_constraint=constraint,
                              name=f"block{b + 1}")
        if b < len(layers) - 1:
            x = apply_transition(x, compression, reg, constraint, name=f"transition{b + 1}")
    x = _bn_relu(x, "head")
    x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
    outputs = _common.classifier_head(x, num_classes, classifier_activation, out_constraint, reg)
    return keras.Model(inputs, outputs, name=name)


def search_space(hp, defaults):
    """`tune`: 4-12 layers in every block, the growth rate times a width multiplier."""
    layers = defaults["stackwise_num_layers"]
    return {"stackwise_num_layers": hps.per_stage(layers, hps.depth(hp, [4, 6, 8, 12], layers[0])),
            "growth_rate": hps.scale(defaults["growth_rate"], hps.width(hp))}


for _depth in (40, 100):
    register(ModelSpec(
        f"densenet_bc{_depth}",
        functools.partial(build_densenet, stackwise_num_layers=[(_depth - 4) // 6] * 3,
                          name=f"densenet_bc{_depth}"),
        RECIPE, f"DenseNet-BC-{_depth}, k=12 (Huang et al. 2017; 3 dense blocks, compression 0.5)",
        search_space))
