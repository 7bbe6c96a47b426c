"""Fake quantization to a fixed-point grid with stochastic rounding (Gupta et al., 2015)."""

import keras
from keras import ops

__all__ = ["check_fixed_point", "round_to_fixed_point", "ROUNDINGS", "StochasticRounding"]

ROUNDINGS = ("stochastic", "nearest")


def check_fixed_point(integer_bits, fractional_bits, rounding="stochastic"):
    """Validates a fixed-point format `<integer_bits, fractional_bits>` and a rounding mode."""
    if isinstance(integer_bits, bool) or not isinstance(integer_bits, int) or integer_bits < 1:
        raise ValueError(
            f"Expected integer_bits to be a positive int. Received: integer_bits={integer_bits}"
        )
    if isinstance(fractional_bits, bool) or not isinstance(fractional_bits, int) or fractional_bits < 0:
        raise ValueError(
            "Expected fractional_bits to be a non-negative int. "
            f"Received: fractional_bits={fractional_bits}"
        )
    if rounding not in ROUNDINGS:
        raise ValueError(f"Expected rounding in {ROUNDINGS}. Received: rounding={rounding!r}")


def round_to_fixed_point(x, integer_bits, fractional_bits, stochastic, seed=None):
    """`x` on the grid `2**-fractional_bits`, clipped to the `<integer_bits, fractional_bits>`
    range `[-2**(integer_bits-1), 2**(integer_bits-1) - eps]`; rounds up with probability
    `frac(x / eps)` when `stochastic` (unbiased inside the range), else to the nearest point
    (halves to even). `seed`: a `keras.random.SeedGenerator` (or int) for the noise."""
    dtype = keras.backend.standardize_dtype(x.dtype)
    scale = ops.cast(2.0**fractional_bits, dtype)
    scaled = x * scale
    if stochastic:
        noise = keras.random.uniform(ops.shape(x), dtype=dtype, seed=seed)
        q = ops.floor(scaled + noise)  # rounds up with probability frac(scaled)
    else:
        q = ops.round(scaled)
    high = 2.0 ** (integer_bits - 1 + fractional_bits)
    return ops.clip(q, ops.cast(-high, dtype), ops.cast(high - 1, dtype)) / scale


@keras.saving.register_keras_serializable(package="keras_seminar")
class StochasticRounding(keras.layers.Layer):
    """Rounds inputs to the fixed-point format `<integer_bits, fractional_bits>`.

    The grid step is `eps = 2**-fractional_bits` and values are clipped to
    `[-2**(integer_bits - 1), 2**(integer_bits - 1) - eps]`. In training, `x` rounds up
    to the next grid point with probability `(x - floor_eps(x)) / eps` (unbiased:
    `E[q] = x` inside the range); at inference it rounds to the nearest grid point. With
    `rounding="nearest"` it rounds to the nearest point in training too (the deterministic
    control of the paper). The gradient is the straight-through estimator inside the range
    and 0 where the value saturates, `clip(x) + stop_gradient(q - clip(x))`: a saturated
    fixed-point output does not move when `x` does (passing the gradient through the clip
    lets pre-activations grow without bound; it broke <2,14> training in
    `experiments/stochastic_rounding.py`).

    Args:
        integer_bits: Positive int, bits before the binary point (sign included).
        fractional_bits: Non-negative int, bits after the binary point.
        seed: Optional int seed, through `keras.random.SeedGenerator`.
        rounding: "stochastic" (default) or "nearest": how training rounds.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:
    >>> q = StochasticRounding(integer_bits=4, fractional_bits=8, seed=0)
    >>> y = q(keras.ops.ones((2, 3)) / 3, training=True)  # each y in {85/256, 86/256}

    Paper: Gupta, Agrawal, Gopalakrishnan, Narayanan, "Deep Learning with Limited
    Numerical Precision", ICML 2015.
    """

    def __init__(self, integer_bits=4, fractional_bits=12, seed=None, rounding="stochastic", **kwargs):
        super().__init__(**kwargs)
        check_fixed_point(integer_bits, fractional_bits, rounding)
        self.integer_bits = integer_bits
        self.fractional_bits = fractional_bits
        self.seed = seed
        self.rounding = rounding
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        if not keras.backend.is_float_dtype(dtype):
            raise ValueError(
                "Expected floating-point inputs (integers are already on a grid; cast them "
                f"first). Received: inputs.dtype={dtype}"
            )
        stochastic = bool(training) and self.rounding == "stochastic"
        q = round_to_fixed_point(inputs, self.integer_bits, self.fractional_bits, stochastic,
                                 self.seed_generator)
        high = 2.0 ** (self.integer_bits - 1)
        clipped = ops.clip(inputs, ops.cast(-high, dtype), ops.cast(high - 2.0**-self.fractional_bits, dtype))
        return clipped + ops.stop_gradient(q - clipped)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "integer_bits": self.integer_bits,
            "fractional_bits": self.fractional_bits,
            "seed": self.seed,
            "rounding": self.rounding,
        }
