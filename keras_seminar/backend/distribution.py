"""Data-parallel training with the engines Keras already has."""

import keras

from keras_seminar.backend.dispatch import name

__all__ = ["data_parallel_scope"]


def data_parallel_scope(num_devices=None):
    """Returns `(scope, replicas)`: build, compile and fit inside `scope` to train data-parallel.

    Uses the engines Keras already has: `keras.distribution.DataParallel` on JAX and
    `tf.distribute.MirroredStrategy` on TensorFlow; GPUs when present, else CPU devices.
    """
    if num_devices is not None and (not isinstance(num_devices, int) or num_devices < 1):
        raise ValueError(f"Expected num_devices >= 1. Received: num_devices={num_devices!r}")
    backend = name()
    if backend == "jax":
        devices = keras.distribution.list_devices()[:num_devices]
        distribution = keras.distribution.DataParallel(devices=devices)
        return distribution.scope(), len(devices)
    if backend == "tensorflow":
        import tensorflow as tf

        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        strategy = tf.distribute.MirroredStrategy([d.name for d in devices][:num_devices])
        return strategy.scope(), strategy.num_replicas_in_sync
    raise ValueError(f"Data-parallel training (distribute=True) is not supported on the {backend} "
                     "backend (use jax or tensorflow).")
