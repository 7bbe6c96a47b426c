"""DropConnect: a dense layer that drops weights, not activations (Wan et al., 2013)."""

import keras
from keras import ops

__all__ = ["DropConnectDense"]


@keras.saving.register_keras_serializable(package="keras_seminar")
class DropConnectDense(keras.layers.Dense):
    """Densely-connected layer that zeroes each kernel weight with probability `rate`.

    In training, the kernel is multiplied by a Bernoulli(1 - rate) mask and scaled by
    `1 / (1 - rate)` (inverted scaling, so the expected kernel is unchanged); one mask is
    drawn per step and shared by the batch. At inference the layer is a plain `Dense`.
    The paper's inference rule (a Gaussian moment match) is replaced by this mean-field
    kernel, as is usual in practice. The bias is never dropped.

    Args:
        units: Positive int, dimensionality of the output space.
        rate: Float in [0, 1), fraction of the kernel weights to drop.
        seed: Optional int seed for the mask, through `keras.random.SeedGenerator`.
        **kwargs: Every other `keras.layers.Dense` argument (`activation`, `use_bias`,
            `kernel_initializer`, `kernel_regularizer`, `kernel_constraint`, ...) and
            base layer keyword arguments, such as `name` and `dtype`.

    Example:
    >>> layer = DropConnectDense(16, rate=0.5, activation="relu", seed=1)
    >>> y = layer(keras.ops.ones((4, 8)), training=True)  # shape (4, 16)

    Paper: Wan, Zeiler, Zhang, LeCun, Fergus, "Regularization of Neural Networks using
    DropConnect", ICML 2013.
    """

    def __init__(self, units, rate=0.5, seed=None, **kwargs):
        super().__init__(units, **kwargs)
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate < 1:
            raise ValueError(f"Expected rate in [0, 1). Received: rate={rate}")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ValueError(f"Expected seed to be an int or None. Received: seed={seed}")
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        # `.value`: the tensor (cast to the compute dtype under mixed precision). Newer JAX
        # (>= 0.10) no longer converts a Keras Variable implicitly inside keras.random ops.
        kernel = self.kernel.value
        if training and self.rate > 0:
            # `keras.random.dropout` zeroes with probability `rate` and scales the kept
            # weights by 1 / (1 - rate) in one fused op.
            kernel = keras.random.dropout(kernel, self.rate, seed=self.seed_generator)
        x = ops.matmul(inputs, kernel)
        if self.bias is not None:
            x = ops.add(x, self.bias)
        if self.activation is not None:
            x = self.activation(x)
        return x

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
