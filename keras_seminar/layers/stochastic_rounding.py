"""Fake quantization to a fixed-point grid with stochastic rounding (Gupta et al., 2015)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_seminar")
class StochasticRounding(keras.layers.Layer):
    """Rounds inputs to the fixed-point format `<integer_bits, fractional_bits>`.

    The grid step is `eps = 2**-fractional_bits` and values are clipped to
    `[-2**(integer_bits - 1), 2**(integer_bits - 1) - eps]`. In training, `x` rounds up
    to the next grid point with probability `(x - floor_eps(x)) / eps` (unbiased:
    `E[q] = x` inside the range); at inference it rounds to the nearest grid point. The
    gradient is the straight-through estimator, `x + stop_gradient(q - x)`.

    Args:
        integer_bits: Positive int, bits before the binary point (sign included).
        fractional_bits: Non-negative int, bits after the binary point.
        seed: Optional int seed, through `keras.random.SeedGenerator`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:
    >>> q = StochasticRounding(integer_bits=4, fractional_bits=8, seed=0)
    >>> y = q(keras.ops.ones((2, 3)) / 3, training=True)  # each y in {85/256, 86/256}

    Paper: Gupta, Agrawal, Gopalakrishnan, Narayanan, "Deep Learning with Limited
    Numerical Precision", ICML 2015.
    """

    def __init__(self, integer_bits=4, fractional_bits=12, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(integer_bits, int) or integer_bits < 1:
            raise ValueError(
                f"Expected integer_bits to be a positive int. Received: integer_bits={integer_bits}"
            )
        if not isinstance(fractional_bits, int) or fractional_bits < 0:
            raise ValueError(
                "Expected fractional_bits to be a non-negative int. "
                f"Received: fractional_bits={fractional_bits}"
            )
        self.integer_bits = integer_bits
        self.fractional_bits = fractional_bits
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        if not keras.backend.is_float_dtype(dtype):
            raise ValueError(
                "Expected floating-point inputs (integers are already on a grid; cast them "
                f"first). Received: inputs.dtype={dtype}"
            )
        scale = ops.cast(2.0**self.fractional_bits, dtype)
        scaled = inputs * scale
        if training:
            noise = keras.random.uniform(ops.shape(inputs), dtype=dtype, seed=self.seed_generator)
            q = ops.floor(scaled + noise)  # rounds up with probability frac(scaled)
        else:
            q = ops.round(scaled)
        high = 2.0 ** (self.integer_bits - 1 + self.fractional_bits)
        q = ops.clip(q, ops.cast(-high, dtype), ops.cast(high - 1, dtype)) / scale
        return inputs + ops.stop_gradient(q - inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "integer_bits": self.integer_bits,
            "fractional_bits": self.fractional_bits,
            "seed": self.seed,
        }
