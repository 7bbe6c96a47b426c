"""CIFAR-style residual networks: ResNet v1/v2 (He et al. 2016) and wide ResNets (WRN).

Papers: He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition", CVPR 2016 (v1,
section 4.2: depth 6n+2, three stages of 16/32/64 filters); He et al., "Identity Mappings in
Deep Residual Networks", ECCV 2016 (v2, pre-activation); Zagoruyko & Komodakis, "Wide
Residual Networks", BMVC 2016 (WRN-d-k: depth d = 6n+4, widths 16k/32k/64k, dropout).

Every named model is a config of `build_resnet` / `build_wide_resnet`. On 28x28 inputs the
stages run at 28x28, 14x14 and 7x7. Shortcuts that change shape are 1x1 projections
(option B), so ResNet-20 has ~0.27M parameters like the paper's option-A net (+1%).
"""

import functools

import keras

from keras_seminar.layers import apply_basic_block, apply_bottleneck_block, apply_wide_block
from keras_seminar.models import _common
from keras_seminar.models import hyperparameters as hps
from keras_seminar.models.registry import ModelSpec, Recipe, register

__all__ = ["apply_pooled_head", "apply_stem", "build_resnet", "build_wide_resnet", "RECIPE",
           "resnet_search_space", "WRN_RECIPE", "wrn_search_space"]

# SGD + Nesterov at 0.1 with a short warm-up and cosine decay, weight decay 5e-4 and label
# smoothing 0.1: the CIFAR recipe, shortened for 28x28 grey images. Pad-and-crop shifts of up to
# 3 pixels (~11%, CIFAR's 4 of 32) and horizontal flips, fused on the device by `RandomShift`
# (training applies flips, and flip test-time augmentation, only where labels survive them:
# Fashion-MNIST, not MNIST). ResNet-20 is a GPU model: ~0.27M parameters but ~31M multiply-adds
# per 28x28 image (~200 s an epoch on 2 idle CPU cores with TensorFlow). Validated on MNIST with
# `--epochs 10`: 99.66 / 99.71% test, and on Fashion-MNIST with these 30 epochs: 94.43% (seed 0,
# TensorFlow on the 2-core CPU; benchmarks/results/zoo.md).
RECIPE = Recipe(epochs=30, batch_size=128, optimizer="sgd", learning_rate=0.1,
                schedule="onecycle", warmup=0.05, weight_decay=5e-4, label_smoothing=0.1,
                augment={"shift": 3, "flip": True}, tta=True)

# WRN: the same schedule, longer (the paper trains 200 epochs on CIFAR); dropout 0.3 inside the
# blocks is the builder's default. GPU only (WRN-16-4 2.7M, WRN-28-10 36.5M parameters).
# Not yet validated by a full run.
WRN_RECIPE = Recipe(epochs=40, batch_size=128, optimizer="sgd", learning_rate=0.1,
                    schedule="onecycle", warmup=0.05, weight_decay=5e-4, label_smoothing=0.1,
                    augment={"shift": 3, "flip": True}, tta=True)

_BLOCKS = {"basic": apply_basic_block, "bottleneck": apply_bottleneck_block}
_BN_EPSILON = 1.001e-5


def apply_stem(x, filters, preact, kernel_regularizer, kernel_constraint, name="stem"):
    """3x3 convolution; v1 adds BN + ReLU (v2 defers them to the first block)."""
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False,
                            kernel_initializer="he_normal", kernel_regularizer=kernel_regularizer,
                            kernel_constraint=kernel_constraint, name=f"{name}_conv")(x)
    if preact:
        return x
    x = keras.layers.BatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x)


def apply_pooled_head(x, preact, dropout, name="head"):
    """(v2: final BN + ReLU) -> global average pooling -> optional dropout."""
    if preact:
        x = keras.layers.BatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_bn")(x)
        x = keras.layers.Activation("relu", name=f"{name}_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name=f"{name}_pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x


def _check_common(activation, input_shape):
    if activation != "relu":  # the residual helpers hard-wire ReLU, as the papers do
        raise ValueError(f"Expected activation='relu' for residual networks. Received: activation={activation!r}")
    if len(input_shape) != 3:
        raise ValueError(f"Expected input_shape (height, width, channels). Received: input_shape={input_shape!r}")


def build_resnet(input_shape=(28, 28, 1), num_classes=10, stackwise_num_filters=(16, 32, 64),
                 stackwise_num_blocks=(3, 3, 3), stackwise_strides=(1, 2, 2), block_type="basic",
                 preact=False, stem_filters=16, activation="relu", dropout=0.0,
                 kernel_regularizer=None, kernel_constraint=None, output_constraint=None,
                 classifier_activation="softmax", augment=None, name="resnet"):
    """A residual network built stage by stage from `apply_<block>` helpers.

    Args:
        input_shape: image shape, e.g. (28, 28, 1).
        num_classes: number of classes.
        stackwise_num_filters: filters of each stage (bottleneck width for "bottleneck").
        stackwise_num_blocks: residual blocks per stage; depth = 2 * sum + 2 for "basic"
            (3 * sum + 2 for "bottleneck").
        stackwise_strides: stride of the first block of each stage (1 or 2).
        block_type: "basic" (two 3x3 convs) or "bottleneck" (1x1-3x3-1x1, 4x expansion).
        preact: False for ResNet v1, True for v2 (pre-activation).
        stem_filters: filters of the first 3x3 convolution.
        activation: must be "relu" (kept for the shared builder signature).
        dropout: dropout after global pooling (0 in the papers).
        kernel_regularizer: applied to every conv kernel and the classifier kernel.
        kernel_constraint: applied to every conv kernel.
        output_constraint: applied to the classifier kernel; defaults to `kernel_constraint`.
        classifier_activation: "softmax" or None for logits.
        augment: training-time augmentation, e.g. `{"translate": 0.1}`.

    Example:
        >>> model = build_resnet(stackwise_num_blocks=[9, 9, 9], preact=True)  # ResNet-56 v2
    """
    filters = _common.check_positive_ints("stackwise_num_filters", stackwise_num_filters)
    blocks = _common.check_positive_ints("stackwise_num_blocks", stackwise_num_blocks)
    strides = list(stackwise_strides)
    if not len(filters) == len(blocks) == len(strides) or not set(strides) <= {1, 2}:
        raise ValueError("Expected stackwise_num_filters, stackwise_num_blocks and stackwise_strides "
                         "of one length, strides in {1, 2}. Received: "
                         f"stackwise_num_filters={filters}, stackwise_num_blocks={blocks}, "
                         f"stackwise_strides={strides}")
    if block_type not in _BLOCKS:
        raise ValueError(f"Expected block_type in {sorted(_BLOCKS)}. Received: block_type={block_type!r}")
    if not isinstance(preact, bool):
        raise ValueError(f"Expected preact to be a bool. Received: preact={preact!r}")
    (stem_filters,) = _common.check_positive_ints("stem_filters", [stem_filters])
    _check_common(activation, input_shape)
    dropout = _common.check_rate("dropout", dropout)
    reg, constraint, out_constraint = _common.kernel_options(kernel_regularizer, kernel_constraint,
                                                             output_constraint)

    inputs = keras.Input(input_shape, name="images")
    x = _common.augmentation(inputs, augment)
    x = apply_stem(x, stem_filters, preact, reg, constraint)
    apply_block = _BLOCKS[block_type]
    for s, (f, n, stride) in enumerate(zip(filters, blocks, strides, strict=True)):
        for b in range(n):
            x = apply_block(x, f, stride=stride if b == 0 else 1, preact=preact,
                            kernel_regularizer=reg, kernel_constraint=constraint,
                            name=f"stack{s + 1}_block{b + 1}")
    x = apply_pooled_head(x, preact, dropout)
    outputs = _common.classifier_head(x, num_classes, classifier_activation, out_constraint, reg)
    return keras.Model(inputs, outputs, name=name)


def build_wide_resnet(input_shape=(28, 28, 1), num_classes=10, depth=16, width=4,
                      stackwise_num_filters=(16, 32, 64), stackwise_strides=(1, 2, 2),
                      activation="relu", dropout=0.3, kernel_regularizer=None,
                      kernel_constraint=None, output_constraint=None,
                      classifier_activation="softmax", augment=None, name="wide_resnet"):
    """WRN-d-k: a 16-filter stem, three stages of (d - 4) / 6 pre-activation wide blocks.

    Args:
        depth: total depth d; (d - 4) must be a positive multiple of 6.
        width: widening factor k; stage filters are `k * stackwise_num_filters`.
        stackwise_num_filters: base filters of each stage before widening.
        stackwise_strides: stride of the first block of each stage.
        dropout: dropout between the two convolutions of every block (0.3 in the paper).
        Other arguments as in `build_resnet`.

    Example:
        >>> model = build_wide_resnet(depth=28, width=10)  # WRN-28-10
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
        raise ValueError(f"Expected depth = 6n + 4 with n >= 1 (10, 16, 22, 28, ...). Received: depth={depth!r}")
    (width,) = _common.check_positive_ints("width", [width])
    base = _common.check_positive_ints("stackwise_num_filters", stackwise_num_filters)
    strides = list(stackwise_strides)
    if len(base) != len(strides) or not set(strides) <= {1, 2}:
        raise ValueError("Expected stackwise_num_filters and stackwise_strides of one length, "
                         f"strides in {{1, 2}}. Received: stackwise_num_filters={base}, "
                         f"stackwise_strides={strides}")
    _check_common(activation, input_shape)
    dropout = _common.check_rate("dropout", dropout)
    reg, constraint, out_constraint = _common.kernel_options(kernel_regularizer, kernel_constraint,
                                                             output_constraint)

    inputs = keras.Input(input_shape, name="images")
    x = _common.augmentation(inputs, augment)
    x = apply_stem(x, base[0], True, reg, constraint)
    for s, (f, stride) in enumerate(zip(base, strides, strict=True)):
        for b in range((depth - 4) // 6):
            x = apply_wide_block(x, f * width, stride=stride if b == 0 else 1, dropout=dropout,
                                 kernel_regularizer=reg, kernel_constraint=constraint,
                                 name=f"stack{s + 1}_block{b + 1}")
    x = apply_pooled_head(x, True, 0.0)
    outputs = _common.classifier_head(x, num_classes, classifier_activation, out_constraint, reg)
    return keras.Model(inputs, outputs, name=name)


def resnet_search_space(hp, defaults):
    """`tune`: 1-5 blocks in every stage, the stem's and stages' filters times a width multiplier."""
    blocks, width = defaults["stackwise_num_blocks"], hps.width(hp)
    return {"stackwise_num_blocks": hps.per_stage(blocks, hps.depth(hp, [1, 2, 3, 5], blocks[0])),
            "stackwise_num_filters": hps.scale(defaults["stackwise_num_filters"], width),
            "stem_filters": hps.scale(defaults["stem_filters"], width)}


def wrn_search_space(hp, defaults):
    """`tune`: WRN-10/16/22 (or its own depth), the widening factor times a width multiplier."""
    return {"depth": hps.depth(hp, [10, 16, 22], defaults["depth"]),
            "width": hps.scale(defaults["width"], hps.width(hp))}


for _depth in (20, 32, 56, 110):
    register(ModelSpec(
        f"resnet{_depth}",
        functools.partial(build_resnet, stackwise_num_blocks=[(_depth - 2) // 6] * 3,
                          preact=False, name=f"resnet{_depth}"),
        RECIPE, f"ResNet-{_depth} v1 (CIFAR-style, 3 stages of 16/32/64)",
        resnet_search_space))
for _depth in (20, 56):
    register(ModelSpec(
        f"resnet{_depth}_v2",
        functools.partial(build_resnet, stackwise_num_blocks=[(_depth - 2) // 6] * 3,
                          preact=True, name=f"resnet{_depth}_v2"),
        RECIPE, f"ResNet-{_depth} v2 (pre-activation, 16/32/64)", resnet_search_space))
for _depth, _width in ((16, 4), (28, 10)):
    register(ModelSpec(
        f"wrn{_depth}_{_width}",
        functools.partial(build_wide_resnet, depth=_depth, width=_width, name=f"wrn{_depth}_{_width}"),
        WRN_RECIPE, f"WRN-{_depth}-{_width} (pre-activation wide blocks)", wrn_search_space))
