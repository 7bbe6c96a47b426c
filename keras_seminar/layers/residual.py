"""Residual blocks as keras-hub style `apply_*` helpers: ResNet v1/v2 and wide ResNet.

Every helper takes a tensor and returns one, names each sublayer `{name}_<part>`, and
uses a 1x1 projection shortcut (with the block's stride) whenever the output shape
differs from the input's, the identity otherwise. `preact=False` is ResNet v1
(conv-BN-ReLU, ReLU after the addition); `preact=True` is v2 (BN-ReLU-conv, nothing after
the addition). Papers: He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition",
CVPR 2016 (v1) and "Identity Mappings in Deep Residual Networks", ECCV 2016 (v2);
Zagoruyko, Komodakis, "Wide Residual Networks", BMVC 2016.

Example:
>>> x = keras.Input((32, 32, 16))
>>> y = apply_basic_block(x, 32, stride=2, preact=True, name="stack1_block1")
>>> y = apply_wide_block(y, 64, stride=1, dropout=0.3, name="stack2_block1")
"""

import keras

__all__ = ["apply_basic_block", "apply_bottleneck_block", "apply_wide_block"]

_BN_EPSILON = 1.001e-5  # the keras-hub / keras.applications ResNet value


def _name(name, prefix):
    return name if name is not None else f"{prefix}_{keras.backend.get_uid(prefix)}"


def _check(filters, stride):
    if not isinstance(filters, int) or filters < 1:
        raise ValueError(f"Expected filters to be a positive int. Received: filters={filters}")
    if stride not in (1, 2):
        raise ValueError(f"Expected stride to be 1 or 2. Received: stride={stride}")


def _layers(kernel_regularizer, kernel_constraint):
    axis = -1 if keras.config.image_data_format() == "channels_last" else 1

    def conv(x, filters, size, stride, name, use_bias=False):
        return keras.layers.Conv2D(
            filters,
            size,
            strides=stride,
            padding="same",
            use_bias=use_bias,
            kernel_initializer="he_normal",
            kernel_regularizer=kernel_regularizer,
            kernel_constraint=kernel_constraint,
            name=name,
        )(x)

    def bn(x, name):
        return keras.layers.BatchNormalization(axis=axis, epsilon=_BN_EPSILON, name=name)(x)

    return axis, conv, bn


def _relu(x, name):
    return keras.layers.Activation("relu", name=name)(x)


def _residual(
    x, convs, out_filters, stride, preact, dropout, kernel_regularizer, kernel_constraint, name
):
    """Shared body; `convs` lists the main path's (filters, kernel_size, stride)."""
    axis, conv, bn = _layers(kernel_regularizer, kernel_constraint)
    project = stride != 1 or x.shape[axis] != out_filters
    inputs = x
    if preact:
        x = _relu(bn(x, f"{name}_preact_bn"), f"{name}_preact_relu")
        inputs = x if project else inputs  # v2: the projection sees the pre-activated input
    shortcut = inputs
    if project:
        shortcut = conv(inputs, out_filters, 1, stride, f"{name}_shortcut_conv")
        if not preact:
            shortcut = bn(shortcut, f"{name}_shortcut_bn")
    for i, (filters, size, s) in enumerate(convs):
        if preact and i > 0:
            x = _relu(bn(x, f"{name}_{i}_bn"), f"{name}_{i}_relu")
            if dropout and i == len(convs) - 1:
                x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
        x = conv(x, filters, size, s, f"{name}_{i + 1}_conv")
        if not preact:
            x = bn(x, f"{name}_{i + 1}_bn")
            if i < len(convs) - 1:
                x = _relu(x, f"{name}_{i + 1}_relu")
    x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
    return x if preact else _relu(x, f"{name}_out")


def apply_basic_block(
    x, filters, stride=1, preact=False, kernel_regularizer=None, kernel_constraint=None, name=None
):
    """Two 3x3 convolutions with a shortcut (ResNet-18/34, CIFAR ResNet-20/32/56).

    Args:
        x: Input tensor, `(batch, height, width, channels)`.
        filters: Positive int, filters of both convolutions (and of the output).
        stride: 1 or 2, stride of the first convolution (and of the projection).
        preact: False for ResNet v1 (post-activation), True for v2 (pre-activation).
        kernel_regularizer, kernel_constraint: Passed to every convolution.
        name: Prefix of every sublayer name; a unique `basic_block_N` if None.
    """
    _check(filters, stride)
    convs = [(filters, 3, stride), (filters, 3, 1)]
    return _residual(
        x,
        convs,
        filters,
        stride,
        preact,
        0.0,
        kernel_regularizer,
        kernel_constraint,
        _name(name, "basic_block"),
    )


def apply_bottleneck_block(
    x,
    filters,
    stride=1,
    preact=False,
    expansion=4,
    kernel_regularizer=None,
    kernel_constraint=None,
    name=None,
):
    """1x1 reduce, 3x3 (strided), 1x1 expand to `expansion * filters` (ResNet-50/101/152).

    Args:
        x: Input tensor, `(batch, height, width, channels)`.
        filters: Positive int, bottleneck width; the output has `expansion * filters`.
        stride: 1 or 2, stride of the 3x3 convolution (and of the projection).
        preact: False for ResNet v1 (post-activation), True for v2 (pre-activation).
        expansion: Positive int, output channels per bottleneck channel (4 in the paper).
        kernel_regularizer, kernel_constraint: Passed to every convolution.
        name: Prefix of every sublayer name; a unique `bottleneck_block_N` if None.
    """
    _check(filters, stride)
    if not isinstance(expansion, int) or expansion < 1:
        raise ValueError(
            f"Expected expansion to be a positive int. Received: expansion={expansion}"
        )
    convs = [(filters, 1, 1), (filters, 3, stride), (expansion * filters, 1, 1)]
    return _residual(
        x,
        convs,
        expansion * filters,
        stride,
        preact,
        0.0,
        kernel_regularizer,
        kernel_constraint,
        _name(name, "bottleneck_block"),
    )


def apply_wide_block(
    x, filters, stride=1, dropout=0.0, kernel_regularizer=None, kernel_constraint=None, name=None
):
    """Wide ResNet block: pre-activation basic block with dropout between the two convs.

    Args:
        x: Input tensor, `(batch, height, width, channels)`.
        filters: Positive int, `16 * k`-style widened filters of both convolutions.
        stride: 1 or 2, stride of the first convolution (and of the projection).
        dropout: Float in [0, 1), dropout rate between the convolutions (0.3 in the paper).
        kernel_regularizer, kernel_constraint: Passed to every convolution.
        name: Prefix of every sublayer name; a unique `wide_block_N` if None.
    """
    _check(filters, stride)
    if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"Expected dropout in [0, 1). Received: dropout={dropout}")
    convs = [(filters, 3, stride), (filters, 3, 1)]
    return _residual(
        x,
        convs,
        filters,
        stride,
        True,
        float(dropout),
        kernel_regularizer,
        kernel_constraint,
        _name(name, "wide_block"),
    )
