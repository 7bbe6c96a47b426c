"""DropConnect: a dense layer that drops weights, not activations (Wan et al., 2013)."""

import keras
from keras import ops

__all__ = ["DropConnectDense", "MASKS"]

MASKS = ("per_example", "per_batch")


@keras.saving.register_keras_serializable(package="keras_seminar")
class DropConnectDense(keras.layers.Dense):
    """Densely-connected layer that zeroes each kernel weight with probability `rate`.

    In training, the kernel is multiplied by a Bernoulli(1 - rate) mask and scaled by
    `1 / (1 - rate)` (inverted scaling, so the expected output is the dense one).

    - `mask="per_batch"` (the default): one mask per step, shared by every example of the
      batch; as cheap as Dropout, but the examples of a batch see the same weights.
    - `mask="per_example"` (Wan et al.'s training rule): every example draws its own mask,
      `y_b = x_b (M_b * W) / (1 - rate)`, one einsum over a sampled `(batch, in, out)` mask.
      A step draws and holds `batch * in * out` values (128 x 800 x 800 float32: 330 MB per
      layer): on a 2-core CPU with TensorFlow a 784-800-800-10 MLP's training step took 10-50
      times as long as with one mask per batch (5.5-6.7 s vs 0.13-0.5 s, with the machine's
      load), hence not the default. Inputs of rank > 2 draw one
      mask per row vector (every position of a sequence its own).

    The bias is never dropped.

    At inference the layer is a plain, deterministic `Dense` with the mean kernel (as Dropout
    infers). Wan et al. infer differently: they sample each unit's input from a moment-matched
    Gaussian, `u ~ N(pWv, p(1 - p)(W * W)(v * v))` with `p = 1 - rate`, and average the
    activation over samples (authors' project page; reports/literature_check.md, item 1b).
    That rule is not implemented: inference here needs no random draws.

    Args:
        units: Positive int, dimensionality of the output space.
        rate: Float in [0, 1), fraction of the kernel weights to drop.
        mask: `"per_batch"` (one mask per step) or `"per_example"` (one for each example).
        seed: Optional int seed for the mask, through `keras.random.SeedGenerator`.
        **kwargs: Every other `keras.layers.Dense` argument (`activation`, `use_bias`,
            `kernel_initializer`, `kernel_regularizer`, `kernel_constraint`, ...) and
            base layer keyword arguments, such as `name` and `dtype`.

    Example:
    >>> layer = DropConnectDense(16, rate=0.5, activation="relu", seed=1)
    >>> y = layer(keras.ops.ones((4, 8)), training=True)  # shape (4, 16), one mask
    >>> wan = DropConnectDense(16, rate=0.5, mask="per_example")  # 4 masks for 4 examples

    Paper: Wan, Zeiler, Zhang, LeCun, Fergus, "Regularization of Neural Networks using
    DropConnect", ICML 2013.
    """

    def __init__(self, units, rate=0.5, mask="per_batch", seed=None, **kwargs):
        super().__init__(units, **kwargs)
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate < 1:
            raise ValueError(f"Expected rate in [0, 1). Received: rate={rate}")
        if not isinstance(mask, str) or mask not in MASKS:
            raise ValueError(f"Expected mask in {MASKS}. Received: mask={mask!r}")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ValueError(f"Expected seed to be an int or None. Received: seed={seed}")
        self.rate = float(rate)
        self.mask = mask
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        # `.value`: the tensor (cast to the compute dtype under mixed precision). Newer JAX
        # (>= 0.10) no longer converts a Keras Variable implicitly inside keras.random ops.
        kernel = self.kernel.value
        if training and self.rate > 0 and self.mask == "per_example":
            x = self._per_example(inputs, kernel)
        else:
            if training and self.rate > 0:  # per_batch: `keras.random.dropout` zeroes with
                # probability `rate` and scales the kept weights by 1 / (1 - rate) in one op
                kernel = keras.random.dropout(kernel, self.rate, seed=self.seed_generator)
            x = ops.matmul(inputs, kernel)
        if self.bias is not None:
            x = ops.add(x, self.bias)
        if self.activation is not None:
            x = self.activation(x)
        return x

    def _per_example(self, inputs, kernel):
        """`x_b (M_b * W) / (1 - rate)` for every row `b` of `inputs` (flattened to 2-D)."""
        shape = ops.shape(inputs)
        rows = ops.reshape(inputs, (-1, shape[-1]))
        n, (fan_in, units) = ops.shape(rows)[0], kernel.shape
        draws = keras.random.uniform((n, fan_in, units), seed=self.seed_generator)  # float32
        masked = ops.where(ops.greater_equal(draws, self.rate), kernel, ops.zeros((), kernel.dtype))
        # scale the (n, units) output, not the (n, in, units) kernels: the same value, less work
        y = ops.einsum("bi,bij->bj", rows, masked) / (1.0 - self.rate)
        return ops.reshape(y, (*shape[:-1], units))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "mask": self.mask, "seed": self.seed}
