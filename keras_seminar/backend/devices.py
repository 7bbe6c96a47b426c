"""What the backend computes on, and splitting the host CPU into devices for tests."""

import os

from keras_seminar.backend.dispatch import name

__all__ = ["device_description", "has_accelerator", "on_cpu", "use_virtual_cpu_devices"]


def device_description():
    """The accelerator the backend computes on, e.g. "gpu:NVIDIA H100 80GB HBM3 x1" or "cpu (2 cores)"."""
    backend = name()
    if backend == "jax":
        import jax

        d = jax.devices()[0]
        if d.platform != "cpu":
            return f"{d.platform}:{getattr(d, 'device_kind', d.platform)} x{len(jax.devices())}"
    elif backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            return f"gpu x{len(gpus)}"
    elif backend == "torch":
        import torch

        if torch.cuda.is_available():
            return f"gpu:{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    return f"cpu ({os.cpu_count()} cores)"


def on_cpu():
    """True when the backend computes on the host CPU (no GPU/TPU in use)."""
    return device_description().startswith("cpu")


def has_accelerator():
    """Whether the backend computes on a GPU/TPU rather than the host CPU."""
    backend = name()
    if backend == "jax":
        import jax

        return jax.default_backend() != "cpu"
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU"))
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def use_virtual_cpu_devices(count):
    """Splits the host CPU into `count` devices, to test data parallelism without GPUs.

    Must run before the backend has created any device (JAX reads `XLA_FLAGS` once, at
    start-up; TensorFlow fixes logical devices at the first op).
    """
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError(f"Expected count to be a positive integer. Received: count={count!r}")
    backend = name()
    if backend == "jax":
        import jax

        found = len(jax.devices("cpu"))
        if found != count:
            raise RuntimeError(
                f"JAX already started with {found} CPU device(s); set "
                f"XLA_FLAGS=--xla_force_host_platform_device_count={count} before Python starts.")
        return
    if backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
        return
    raise ValueError(f"Virtual CPU devices are not supported on the {backend} backend.")
