"""Learning-rate schedules Keras lacks: cyclical learning rates (Smith 2017)."""

import math
import numbers

import keras
from keras import ops

__all__ = ["CyclicalLearningRate", "MODES"]

MODES = ("triangular", "triangular2", "exp_range")


@keras.saving.register_keras_serializable(package="keras_seminar")
class CyclicalLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """Cyclical learning rate of Smith (2017), "Cyclical Learning Rates for Training Neural Networks".

    The rate moves linearly from `initial_learning_rate` up to `maximal_learning_rate` over
    `step_size` steps and back down, each cycle lasting `2 * step_size` steps:

        cycle = floor(1 + step / (2 step_size)),  x = |step / step_size - 2 cycle + 1|
        lr = initial + (maximal - initial) * max(0, 1 - x) * scale

    with `scale = 1` ("triangular"), `1 / 2**(cycle - 1)` ("triangular2": the amplitude halves
    every cycle) or `gamma**step` ("exp_range").

    Args:
        initial_learning_rate: the lower bound, > 0.
        maximal_learning_rate: the upper bound, >= initial_learning_rate.
        step_size: steps per half cycle (Smith suggests 2-10 epochs' worth).
        mode: "triangular", "triangular2" or "exp_range".
        gamma: decay base of "exp_range", in (0, 1].
        name: optional name.

    Example:
        >>> lr = CyclicalLearningRate(1e-4, 1e-2, step_size=4 * steps_per_epoch)
        >>> model.compile(keras.optimizers.SGD(lr, momentum=0.9), ...)
    """

    def __init__(self, initial_learning_rate, maximal_learning_rate, step_size, mode="triangular",
                 gamma=1.0, name="CyclicalLearningRate"):
        super().__init__()
        for arg, value in (("initial_learning_rate", initial_learning_rate),
                           ("maximal_learning_rate", maximal_learning_rate)):
            if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                    or not 0 < value < math.inf):
                raise ValueError(f"Expected {arg} to be a finite number > 0. Received: {arg}={value!r}")
        if maximal_learning_rate < initial_learning_rate:
            raise ValueError("Expected maximal_learning_rate >= initial_learning_rate. Received: "
                             f"initial_learning_rate={initial_learning_rate}, "
                             f"maximal_learning_rate={maximal_learning_rate}")
        if isinstance(step_size, bool) or not isinstance(step_size, numbers.Integral) or step_size < 1:
            raise ValueError(f"Expected step_size to be an integer >= 1. Received: step_size={step_size!r}")
        if mode not in MODES:
            raise ValueError(f"Expected mode in {MODES}. Received: mode={mode!r}")
        if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not 0 < gamma <= 1:
            raise ValueError(f"Expected gamma in (0, 1]. Received: gamma={gamma!r}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.maximal_learning_rate = float(maximal_learning_rate)
        self.step_size = int(step_size)
        self.mode = mode
        self.gamma = float(gamma)
        self.name = name

    def __call__(self, step):
        step = ops.cast(step, "float32")
        step_size = ops.cast(self.step_size, "float32")
        cycle = ops.floor(1.0 + step / (2.0 * step_size))
        x = ops.abs(step / step_size - 2.0 * cycle + 1.0)
        if self.mode == "triangular":
            scale = ops.ones_like(step)
        elif self.mode == "triangular2":
            scale = ops.power(2.0, 1.0 - cycle)
        else:  # exp_range: gamma**step, through exp/log so a huge step underflows to 0, not NaN
            scale = ops.exp(step * ops.log(ops.cast(self.gamma, "float32")))
        amplitude = self.maximal_learning_rate - self.initial_learning_rate
        return self.initial_learning_rate + amplitude * ops.maximum(0.0, 1.0 - x) * scale

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "maximal_learning_rate": self.maximal_learning_rate, "step_size": self.step_size,
                "mode": self.mode, "gamma": self.gamma, "name": self.name}
