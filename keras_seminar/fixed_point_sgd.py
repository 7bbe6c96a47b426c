"""Plain SGD whose weights live on a fixed-point grid (Gupta et al., 2015).

After every step each variable is `Round(w - lr * g)` to the format `<integer_bits,
fractional_bits>`: no float32 master copy is kept, so with round-to-nearest an update
smaller than half a grid step is lost, while stochastic rounding keeps it in expectation.

Example:
    >>> opt = FixedPointSGD(0.01, integer_bits=2, fractional_bits=14, rounding="nearest")
    >>> model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")

Paper: Gupta, Agrawal, Gopalakrishnan, Narayanan, "Deep Learning with Limited Numerical
Precision", ICML 2015 (section 3, the weight update in fixed point).
"""

import keras
from keras import ops

from keras_seminar.layers.stochastic_rounding import check_fixed_point, round_to_fixed_point

__all__ = ["FixedPointSGD"]


@keras.saving.register_keras_serializable(package="keras_seminar")
class FixedPointSGD(keras.optimizers.Optimizer):
    """SGD without momentum; every updated variable is rounded to a fixed-point grid.

    Args:
        learning_rate: float or schedule.
        integer_bits: Positive int, bits before the binary point (sign included).
        fractional_bits: Non-negative int, bits after the binary point.
        rounding: "stochastic" or "nearest".
        seed: Optional int seed of the rounding noise.
        **kwargs: Base optimizer keyword arguments (`name`, `clipnorm`, ...).
    """

    def __init__(self, learning_rate=0.01, integer_bits=2, fractional_bits=14, rounding="stochastic",
                 seed=None, name="fixed_point_sgd", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        check_fixed_point(integer_bits, fractional_bits, rounding)
        self.integer_bits = integer_bits
        self.fractional_bits = fractional_bits
        self.rounding = rounding
        self.seed = seed

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        # The noise state is an optimizer variable, so a JAX train step (stateless) carries it
        # from step to step like the iteration counter, instead of reusing one draw.
        self._seed_generator = keras.random.SeedGenerator(self.seed, name="rounding_seed")
        self._track_variable(self._seed_generator.state)

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        new = variable - lr * ops.cast(gradient, variable.dtype)
        self.assign(variable, round_to_fixed_point(new, self.integer_bits, self.fractional_bits,
                                                   self.rounding == "stochastic", self._seed_generator))

    def get_config(self):
        return {**super().get_config(), "integer_bits": self.integer_bits,
                "fractional_bits": self.fractional_bits, "rounding": self.rounding, "seed": self.seed}
