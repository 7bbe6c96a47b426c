"""RandomShift: pad-and-crop translation (and horizontal flip) as two small matmuls on the device."""

import keras
from keras import ops

__all__ = ["RandomShift"]


@keras.saving.register_keras_serializable(package="keras_seminar")
class RandomShift(keras.layers.Layer):
    """Shifts each image by a random whole number of pixels, zero-filling, and optionally flips it.

    This is the "pad by `max_shift`, crop back at a random place" augmentation of the fast
    CIFAR-10 recipes (airbench), and with `horizontal_flip` their random flip too, in one layer.
    Each example draws its own row shift, column shift in `[-max_shift, max_shift]` and flip.
    The shifts are applied as `out[n] = R[n] @ x[n] @ C[n]^T` with one-hot (0/1) matrices, i.e.
    two batched matmuls: exact (no interpolation, one non-zero term per sum, so exact in bf16
    too), jit-friendly on every backend and cheap on a GPU, where `RandomTranslation`'s general
    affine resampling is not. At inference (`training` falsy) the layer is the identity.

    Args:
        max_shift: non-negative int, the largest shift in pixels along each axis (2 for a
            28x28 image moves it by up to ~7%; 0 disables shifting).
        horizontal_flip: also mirror half of the images left-right (right for Fashion-MNIST
            and CIFAR, wrong for digits).
        seed: optional int seed, through `keras.random.SeedGenerator`.
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Input shape: `(batch, height, width, channels)`, channels last. Output: the same.

    Example:
    >>> layer = RandomShift(2, horizontal_flip=True, seed=0)
    >>> y = layer(keras.ops.ones((8, 28, 28, 1)), training=True)  # shape (8, 28, 28, 1)

    Papers: Krizhevsky, Sutskever, Hinton, "ImageNet Classification with Deep Convolutional
    Neural Networks", NeurIPS 2012 (crops and flips); Jordan, "94% on CIFAR-10 in 3.29 Seconds
    on a Single GPU", 2024 (airbench).
    """

    def __init__(self, max_shift, horizontal_flip=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
            raise ValueError(f"Expected max_shift to be a non-negative int. Received: max_shift={max_shift!r}")
        if not isinstance(horizontal_flip, bool):
            raise ValueError(f"Expected horizontal_flip to be True or False. Received: horizontal_flip={horizontal_flip!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"Expected seed to be an int or None. Received: seed={seed!r}")
        self.max_shift = max_shift
        self.horizontal_flip = horizontal_flip
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"Expected images of shape (batch, height, width, channels). Received: input_shape={input_shape}")
        height, width = input_shape[1], input_shape[2]
        if height is None or width is None:
            raise ValueError(f"Expected a known height and width. Received: input_shape={input_shape}")
        if self.max_shift >= min(height, width):
            raise ValueError(f"Expected max_shift smaller than the image ({height}x{width}). "
                             f"Received: max_shift={self.max_shift}")

    @staticmethod
    def shift(images, rows, cols, flips):
        """`images` moved down by `rows`, right by `cols` (per example, zero fill), after mirroring
        the examples where `flips` is 1. The deterministic core of the layer, for tests and reuse."""
        height, width = images.shape[1], images.shape[2]
        dtype = images.dtype
        i = ops.arange(height, dtype="int32")
        k = ops.arange(width, dtype="int32")
        rows, cols, flips = (ops.cast(v, "int32")[:, None] for v in (rows, cols, flips))
        # Output row i reads input row i - rows; output column k reads column k - cols of the
        # (maybe mirrored) image, i.e. input column width - 1 - (k - cols) when mirrored.
        src_row = i[None, :] - rows
        moved = k[None, :] - cols
        src_col = flips * (width - 1 - moved) + (1 - flips) * moved
        row_matrix = ops.cast(ops.equal(src_row[:, :, None], i[None, None, :]), dtype)
        col_matrix = ops.cast(ops.equal(src_col[:, :, None], k[None, None, :]), dtype)
        x = ops.einsum("nij,njwc->niwc", row_matrix, images)
        return ops.einsum("nkl,nilc->nikc", col_matrix, x)

    def call(self, inputs, training=None):
        if not training or (self.max_shift == 0 and not self.horizontal_flip):
            return inputs
        batch = ops.shape(inputs)[0]
        s = self.max_shift
        rows = keras.random.randint((batch,), -s, s + 1, seed=self.seed_generator)
        cols = keras.random.randint((batch,), -s, s + 1, seed=self.seed_generator)
        flips = (keras.random.randint((batch,), 0, 2, seed=self.seed_generator)
                 if self.horizontal_flip else ops.zeros((batch,), "int32"))
        return self.shift(inputs, rows, cols, flips)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_shift": self.max_shift,
                "horizontal_flip": self.horizontal_flip, "seed": self.seed}
