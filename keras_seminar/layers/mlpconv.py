"""MLPConv, the Network-in-Network block, and the NiN global-average-pooling head."""

import keras

from keras_seminar.layers._initializers import kernel_initializers

__all__ = ["apply_nin_head", "MLPConv"]


@keras.saving.register_keras_serializable(package="keras_seminar")
class MLPConv(keras.layers.Layer):
    """A `k x k` convolution followed by 1x1 convolutions: a micro-MLP slid over the image.

    Every convolution is followed by (optional) batch normalization and the activation;
    dropout, if any, is applied once at the end of the block.

    Args:
        filters: Int or list of ints: `filters[0]` for the `k x k` conv, the rest for the 1x1
            convs; an int `f` is `[f]`, a single `k x k` convolution.
        kernel_size: Int or tuple of 2 ints, size of the first convolution.
        strides: Strides of the first convolution.
        padding: `"same"` or `"valid"`, padding of the first convolution.
        activation: Activation after every convolution.
        use_batchnorm: Whether to insert `BatchNormalization` before each activation (the
            convolutions then have no bias).
        dropout: Float in [0, 1), dropout rate at the end of the block.
        kernel_initializer, kernel_regularizer, kernel_constraint: For every convolution.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:
    >>> block = MLPConv([192, 160, 96], kernel_size=5, use_batchnorm=True, dropout=0.5)
    >>> y = block(keras.ops.ones((2, 32, 32, 3)))  # shape (2, 32, 32, 96)
    >>> y = MLPConv(16, 3)(keras.ops.ones((2, 8, 8, 1)))  # one 3x3 conv: (2, 8, 8, 16)

    Paper: Lin, Chen, Yan, "Network In Network", ICLR 2014 (arXiv:1312.4400).
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        strides=1,
        padding="same",
        activation="relu",
        use_batchnorm=False,
        dropout=0.0,
        kernel_initializer="he_normal",
        kernel_regularizer=None,
        kernel_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        given = filters
        if isinstance(filters, int) and not isinstance(filters, bool):
            filters = [filters]  # one k x k convolution, like `Conv2D(filters, kernel_size)`
        if (
            not isinstance(filters, (list, tuple))
            or not filters
            or not all(isinstance(f, int) and not isinstance(f, bool) and f > 0 for f in filters)
        ):
            raise ValueError(
                "Expected filters to be a positive int or a non-empty list of positive ints. "
                f"Received: filters={given}"
            )
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"Expected dropout in [0, 1). Received: dropout={dropout}")
        self.filters = list(filters)
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.activation = keras.activations.get(activation)
        self.use_batchnorm = use_batchnorm
        self.dropout = float(dropout)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.convs, self.norms = [], []
        initializer = kernel_initializers(self.kernel_initializer)  # 1x1 kernels of one shape differ
        for i, f in enumerate(self.filters):
            self.convs.append(
                keras.layers.Conv2D(
                    f,
                    kernel_size if i == 0 else 1,
                    strides=strides if i == 0 else 1,
                    padding=padding if i == 0 else "valid",
                    use_bias=not use_batchnorm,
                    kernel_initializer=initializer((i and self.filters[i - 1], f)),
                    kernel_regularizer=self.kernel_regularizer,
                    kernel_constraint=self.kernel_constraint,
                    dtype=self.dtype_policy,
                    name=f"{self.name}_conv{i}",
                )
            )
            if use_batchnorm:
                self.norms.append(
                    keras.layers.BatchNormalization(
                        dtype=self.dtype_policy, name=f"{self.name}_bn{i}"
                    )
                )
        self.drop = None
        if self.dropout:
            self.drop = keras.layers.Dropout(
                self.dropout, dtype=self.dtype_policy, name=f"{self.name}_drop"
            )

    def build(self, input_shape):
        shape = input_shape
        for i, conv in enumerate(self.convs):
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            if self.use_batchnorm:
                self.norms[i].build(shape)

    def call(self, inputs, training=None):
        x = inputs
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if self.use_batchnorm:
                x = self.norms[i](x, training=training)
            x = self.activation(x)
        if self.drop is not None:
            x = self.drop(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        shape = input_shape
        for conv in self.convs:
            shape = conv.compute_output_shape(shape)
        return shape

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "activation": keras.activations.serialize(self.activation),
            "use_batchnorm": self.use_batchnorm,
            "dropout": self.dropout,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
        }


def apply_nin_head(x, num_classes, activation="softmax", kernel_regularizer=None,
                   kernel_constraint=None, name="nin_head"):
    """NiN classifier head: 1x1 conv to `num_classes` maps, global average pool, softmax.

    The activation layer runs in float32, so the probabilities stay float32 under mixed
    precision. Pass `activation=None` to get logits.

    Args:
        x: Feature map tensor, `(batch, height, width, channels)`.
        num_classes: Positive int, number of classes (one feature map per class).
        activation: Final activation, `"softmax"` by default, or None.
        kernel_regularizer: Regularizer for the 1x1 convolution (name, config or instance).
        kernel_constraint: Constraint for the 1x1 convolution (name, config or instance), e.g.
            `"nonneg"` for non-negative hidden->output weights.
        name: Prefix of the sublayer names (`{name}_conv`, `{name}_gap`, `{name}_act`).

    Example:
    >>> probs = apply_nin_head(features, num_classes=10, name="head")

    Paper: Lin, Chen, Yan, "Network In Network", ICLR 2014, section 3.2.
    """
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            f"Expected num_classes to be a positive int. Received: num_classes={num_classes}"
        )
    x = keras.layers.Conv2D(
        num_classes,
        1,
        kernel_regularizer=keras.regularizers.get(kernel_regularizer),
        kernel_constraint=keras.constraints.get(kernel_constraint),
        name=f"{name}_conv",
    )(x)
    x = keras.layers.GlobalAveragePooling2D(name=f"{name}_gap")(x)
    if activation is not None:
        x = keras.layers.Activation(activation, dtype="float32", name=f"{name}_act")(x)
    return x
