"""Maxout units: the max over `num_pieces` linear pieces (Goodfellow et al., 2013)."""

import numbers

import keras
from keras import ops

__all__ = ["Maxout", "MaxoutChannels"]


def _check_num_pieces(num_pieces):
    if not isinstance(num_pieces, numbers.Integral) or isinstance(num_pieces, bool) or num_pieces < 2:
        raise ValueError(
            f"Expected num_pieces to be an int >= 2. Received: num_pieces={num_pieces}"
        )
    return int(num_pieces)  # NumPy ints too, stored as a plain int for the config


@keras.saving.register_keras_serializable(package="keras_seminar")
class Maxout(keras.layers.Layer):
    """Dense maxout layer: `units` outputs, each the max over `num_pieces` affine maps.

    `z = x @ kernel + bias` has `units * num_pieces` columns; column `u * num_pieces + p`
    is piece `p` of unit `u`, and the output is `max_p z[..., u, p]`.

    Args:
        units: Positive int, number of output units.
        num_pieces: Int >= 2, number of linear pieces per unit.
        use_bias: Whether to add a bias to every piece.
        kernel_initializer, bias_initializer: Initializers for the weights.
        kernel_regularizer, bias_regularizer: Regularizers for the weights.
        kernel_constraint, bias_constraint: Constraints for the weights.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:
    >>> y = Maxout(units=4, num_pieces=3)(keras.ops.ones((2, 8)))  # shape (2, 4)

    Paper: Goodfellow, Warde-Farley, Mirza, Courville, Bengio, "Maxout Networks", ICML 2013.
    """

    def __init__(
        self,
        units,
        num_pieces,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(units, numbers.Integral) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Expected units to be a positive int. Received: units={units}")
        self.units = int(units)
        self.num_pieces = _check_num_pieces(num_pieces)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.layers.InputSpec(min_ndim=2)

    def build(self, input_shape):
        width = self.units * self.num_pieces
        self.kernel = self.add_weight(
            shape=(input_shape[-1], width),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(width,),
                name="bias",
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: input_shape[-1]})

    def call(self, inputs):
        z = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            z = z + self.bias
        z = ops.reshape(z, tuple(ops.shape(z)[:-1]) + (self.units, self.num_pieces))
        return ops.max(z, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        ser_i, ser_r, ser_c = (
            keras.initializers.serialize,
            keras.regularizers.serialize,
            keras.constraints.serialize,
        )
        return {
            **super().get_config(),
            "units": self.units,
            "num_pieces": self.num_pieces,
            "use_bias": self.use_bias,
            "kernel_initializer": ser_i(self.kernel_initializer),
            "bias_initializer": ser_i(self.bias_initializer),
            "kernel_regularizer": ser_r(self.kernel_regularizer),
            "bias_regularizer": ser_r(self.bias_regularizer),
            "kernel_constraint": ser_c(self.kernel_constraint),
            "bias_constraint": ser_c(self.bias_constraint),
        }


@keras.saving.register_keras_serializable(package="keras_seminar")
class MaxoutChannels(keras.layers.Layer):
    """Channel maxout: max-pools groups of `num_pieces` consecutive channels along `axis`.

    Turns a feature map with `C` channels (C divisible by `num_pieces`) into one with
    `C // num_pieces` channels; output channel `c` is `max(x[..., c*k:(c+1)*k])`. Put it
    after a `Conv2D(filters * num_pieces, ...)` for a convolutional maxout layer.

    Args:
        num_pieces: Int >= 2, number of channels pooled into one.
        axis: The channel axis (not 0, the batch axis). Defaults to -1.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:
    >>> y = MaxoutChannels(num_pieces=2)(keras.ops.ones((1, 5, 5, 8)))  # (1, 5, 5, 4)

    Paper: Goodfellow, Warde-Farley, Mirza, Courville, Bengio, "Maxout Networks", ICML 2013.
    """

    def __init__(self, num_pieces, axis=-1, **kwargs):
        super().__init__(**kwargs)
        num_pieces = _check_num_pieces(num_pieces)
        if not isinstance(axis, int) or isinstance(axis, bool) or axis == 0:
            raise ValueError(f"Expected axis to be a non-batch int axis. Received: axis={axis}")
        self.num_pieces = num_pieces
        self.axis = axis

    def _axis(self, ndim):
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if not 0 < axis < ndim:
            raise ValueError(
                f"Expected axis in [1, {ndim - 1}] or [-{ndim - 1}, -1] for a rank-{ndim} "
                f"input. Received: axis={self.axis}"
            )
        return axis

    def build(self, input_shape):
        channels = input_shape[self._axis(len(input_shape))]
        if channels is None or channels % self.num_pieces:
            raise ValueError(
                f"Expected the channel dimension to be divisible by num_pieces="
                f"{self.num_pieces}. Received: channels={channels} (input_shape={input_shape})"
            )

    def call(self, inputs):
        axis = self._axis(len(inputs.shape))
        shape = tuple(ops.shape(inputs))
        groups = shape[axis] // self.num_pieces
        x = ops.reshape(inputs, shape[:axis] + (groups, self.num_pieces) + shape[axis + 1 :])
        return ops.max(x, axis=axis + 1)

    def compute_output_shape(self, input_shape):
        axis = self._axis(len(input_shape))
        shape = list(input_shape)
        shape[axis] = shape[axis] // self.num_pieces
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "num_pieces": self.num_pieces, "axis": self.axis}
