"""Test-only backend dispatch for gradients (library code never imports tf/jax/torch)."""

import keras
import numpy as np


def value_and_grad(fn, x):
    """Returns `(fn(x), d fn / d x)` as NumPy arrays for a scalar-valued `fn` of one tensor."""
    x = np.asarray(x)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        t = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(t)
            y = fn(t)
        return np.asarray(y), np.asarray(tape.gradient(y, t))
    if backend == "jax":
        import jax

        y, g = jax.value_and_grad(fn)(jax.numpy.asarray(x))
        return np.asarray(y), np.asarray(g)
    if backend == "torch":
        import torch

        t = torch.tensor(x, requires_grad=True)
        y = fn(t)
        (g,) = torch.autograd.grad(y, t)
        return y.detach().cpu().numpy(), g.cpu().numpy()
    raise NotImplementedError(f"No gradient dispatch for backend={backend}")
