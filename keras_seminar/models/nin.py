"""Network in Network (Lin, Chen, Yan, "Network In Network", ICLR 2014, arXiv:1312.4400).

Three mlpconv blocks (a k x k convolution followed by 1x1 convolutions) with pooling and
dropout between them, then one feature map per class averaged over the image: no dense layer.
The filter counts are the paper's CIFAR-10 net (~0.96M parameters); on 28x28 inputs the
blocks run at 28x28, 14x14 and 7x7.
"""

import keras

from keras_seminar.layers import MLPConv, apply_nin_head
from keras_seminar.models import _common
from keras_seminar.models import hyperparameters as hps
from keras_seminar.models.registry import ModelSpec, Recipe, register

__all__ = ["build_nin", "RECIPE", "search_space"]

# Adam + one-cycle, label smoothing 0.1, pad-and-crop shifts of up to 3 pixels and horizontal
# flips (`RandomShift`) and flip test-time augmentation; both dropped for digits, whose labels
# do not survive flips. Batch norm inside the blocks (not in the 2014 paper) lets 15
# epochs do what took the paper hundreds. ~160M multiply-adds per 28x28 image: ~2.6 h a run on
# 2 idle CPU cores (benchmarks/results/zoo.md says which runs have landed).
RECIPE = Recipe(epochs=15, batch_size=128, optimizer="adam", learning_rate=2e-3,
                schedule="onecycle", label_smoothing=0.1, augment={"shift": 3, "flip": True}, tta=True)

_POOLING = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}


def build_nin(input_shape=(28, 28, 1), num_classes=10,
              stackwise_num_filters=((192, 160, 96), (192, 192, 192), (192, 192)),
              stackwise_kernel_sizes=(5, 5, 3), stackwise_pooling=("max", "average"),
              use_batchnorm=True, activation="relu", dropout=0.5, kernel_regularizer=None,
              kernel_constraint=None, output_constraint=None, classifier_activation="softmax",
              augment=None, name="nin"):
    """mlpconv -> pool (3x3, stride 2) -> dropout, ..., mlpconv -> 1x1 conv to classes -> GAP.

    Args:
        input_shape: image shape, e.g. (28, 28, 1).
        num_classes: number of classes.
        stackwise_num_filters: per block, the k x k conv's filters then the 1x1 convs'.
        stackwise_kernel_sizes: k of each block's first convolution.
        stackwise_pooling: "max" or "average" pooling after each block but the last.
        use_batchnorm: batch norm after every convolution of the blocks (not in the paper).
        activation: activation after every convolution of the blocks.
        dropout: dropout after every block but the last (0.5 in the paper).
        kernel_regularizer: applied to every conv kernel.
        kernel_constraint: applied to every conv kernel of the blocks.
        output_constraint: applied to the class-map 1x1 conv; defaults to `kernel_constraint`.
        classifier_activation: "softmax" or None for logits.
        augment: training-time augmentation, e.g. `{"translate": 0.1}`.

    Example:
        >>> model = build_nin(stackwise_num_filters=[[96, 96, 96], [96, 96, 96], [96, 96]])
    """
    blocks = [_common.check_positive_ints("stackwise_num_filters", f) for f in stackwise_num_filters]
    sizes = _common.check_positive_ints("stackwise_kernel_sizes", stackwise_kernel_sizes)
    pooling = list(stackwise_pooling)
    if len(sizes) != len(blocks) or len(pooling) != len(blocks) - 1:
        raise ValueError("Expected one kernel size per block and one pooling between blocks. "
                         f"Received: stackwise_num_filters={blocks}, stackwise_kernel_sizes={sizes}, "
                         f"stackwise_pooling={pooling}")
    for p in pooling:
        if p not in _POOLING:
            raise ValueError(f"Expected stackwise_pooling entries in {sorted(_POOLING)}. Received: {p!r}")
    dropout = _common.check_rate("dropout", dropout)
    keras.activations.get(activation)  # raises ValueError naming an unknown activation
    reg, constraint, out_constraint = _common.kernel_options(kernel_regularizer, kernel_constraint,
                                                             output_constraint)

    inputs = keras.Input(input_shape, name="images")
    x = _common.augmentation(inputs, augment)
    for i, (filters, size) in enumerate(zip(blocks, sizes, strict=True)):
        last = i == len(blocks) - 1
        x = MLPConv(filters, kernel_size=size, activation=activation, use_batchnorm=use_batchnorm,
                    dropout=0.0, kernel_regularizer=reg, kernel_constraint=constraint,
                    name=f"mlpconv{i + 1}")(x)
        if not last:
            # Pool, then drop (the paper's order); MLPConv's own dropout would come before pooling.
            x = _POOLING[pooling[i]](3, strides=2, padding="same", name=f"mlpconv{i + 1}_pool")(x)
            if dropout:
                x = keras.layers.Dropout(dropout, name=f"mlpconv{i + 1}_dropout")(x)
    x = apply_nin_head(x, num_classes, activation=None, kernel_regularizer=reg,
                       kernel_constraint=out_constraint, name="head")
    # The zoo's contract: the last layer is a float32 Activation named "predictions" (linear
    # for logits), so a softmax is found and stripped by the attacks' logit model.
    outputs = keras.layers.Activation(classifier_activation or "linear", dtype="float32",
                                      name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def search_space(hp, defaults):
    """`tune`: every mlpconv layer's filters times a width multiplier."""
    return {"stackwise_num_filters": hps.scale(defaults["stackwise_num_filters"], hps.width(hp))}


register(ModelSpec("nin", build_nin, RECIPE,
                   "Network in Network: 3 mlpconv blocks, dropout, global-average-pool head",
                   search_space))
