"""Plain SGD whose weights live on a fixed-point grid (Gupta et al., 2015).

After every step each variable is `Round(w - lr * g)` to the format `<integer_bits,
fractional_bits>`: no float32 master copy is kept, so with round-to-nearest an update
smaller than half a grid step is lost, while stochastic rounding keeps it in expectation.

Example:
    >>> opt = FixedPointSGD(0.01, integer_bits=2, fractional_bits=14, rounding="nearest")
    >>> model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    >>> model = fixed_point_mlp((1000, 1000), integer_bits=2, fractional_bits=14)  # the paper's MNIST net

Paper: Gupta, Agrawal, Gopalakrishnan, Narayanan, "Deep Learning with Limited Numerical
Precision", ICML 2015 (section 3, the weight update in fixed point).
"""

import keras
from keras import ops

from keras_seminar.layers.stochastic_rounding import (
    StochasticRounding,
    check_fixed_point,
    round_to_fixed_point,
)

__all__ = ["FixedPointSGD", "fixed_point_mlp"]


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


def fixed_point_mlp(hidden, integer_bits=2, fractional_bits=14, rounding="stochastic", learning_rate=0.01,
                    seed=None, input_shape=(28, 28, 1), classes=10):
    """Gupta et al.'s fixed-point MLP, compiled: Flatten - [Dense - round - ReLU] x hidden - Dense -
    round - softmax, trained by `FixedPointSGD` (sparse categorical cross-entropy, accuracy).

    Each Dense output is rounded to `<integer_bits, fractional_bits>` by a `StochasticRounding`
    layer (`rounding`'s way in training, to nearest at test time) and the optimizer rounds the
    weights. `fractional_bits=None` builds the float32 control: no rounding layers, plain
    `keras.optimizers.SGD`. Layer i (from 0) draws its rounding noise from `seed * 100 + i`, the
    optimizer from `seed` (None: unseeded). The weights' initial values follow Keras's global seed.
    """
    if (isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__")
            or not all(isinstance(u, int) and not isinstance(u, bool) and u > 0 for u in hidden)):
        raise ValueError(f"Expected hidden to be a sequence of positive ints. Received: hidden={hidden!r}")
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
        raise ValueError(f"Expected classes to be a positive int. Received: classes={classes!r}")
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule) and (
            isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or learning_rate <= 0):
        raise ValueError(f"Expected learning_rate to be a positive number or a schedule. "
                         f"Received: learning_rate={learning_rate!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"Expected seed to be an int or None. Received: seed={seed!r}")
    if fractional_bits is not None:
        check_fixed_point(integer_bits, fractional_bits, rounding)
    hidden = tuple(hidden)
    layers = [keras.Input(input_shape), keras.layers.Flatten()]
    for i, units in enumerate((*hidden, classes)):
        layers.append(keras.layers.Dense(units, name=f"dense{i + 1}"))
        if fractional_bits is not None:
            layers.append(StochasticRounding(integer_bits, fractional_bits, rounding=rounding, name=f"round{i + 1}",
                                             seed=None if seed is None else seed * 100 + i))
        layers.append(keras.layers.Activation("relu" if i < len(hidden) else "softmax"))
    model = keras.Sequential(layers)
    model.compile(keras.optimizers.SGD(learning_rate) if fractional_bits is None else
                  FixedPointSGD(learning_rate, integer_bits, fractional_bits, rounding, seed=seed),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
