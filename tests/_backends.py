"""Which frameworks this environment has: CI runs JAX and torch where TensorFlow is absent.

A test that needs a framework other than the active backend (a cross-backend load, a TensorFlow
import) asks here first, or carries `@pytest.mark.tensorflow` (skipped where TF is absent).
"""

import importlib.util

BACKENDS = ("tensorflow", "jax", "torch")


def installed(module):
    """Whether `module` ("tensorflow", "jax", "torch", ...) can be imported, without importing it."""
    return importlib.util.find_spec(module) is not None


def other_backends():
    """The installed Keras backends other than the active one, e.g. ["jax"] on TensorFlow."""
    import keras

    return [b for b in BACKENDS if b != keras.backend.backend() and installed(b)]
