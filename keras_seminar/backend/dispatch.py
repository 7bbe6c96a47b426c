"""Which backend runs, and what its `fit` can do: the questions other modules used to answer by
comparing backend names themselves."""

import keras

__all__ = ["compiles_step_loops", "name", "SUPPORTED", "supports_scan"]

SUPPORTED = ("tensorflow", "jax", "torch")


def name():
    """The active Keras backend: "tensorflow", "jax" or "torch"."""
    backend = keras.backend.backend()
    if backend not in SUPPORTED:
        raise RuntimeError(f"Unsupported Keras backend {backend!r}. Expected one of {SUPPORTED}.")
    return backend


def compiles_step_loops():
    """Whether Keras compiles `steps_per_execution` steps into one call: TensorFlow does; Keras
    on JAX runs them in a Python loop (nothing to gain) and on torch refuses more than 1."""
    return name() == "tensorflow"


def supports_scan():
    """Whether `scanned_train_step` can fold a chunk of batches into one call (JAX only)."""
    return name() == "jax"
