"""Compiled XLA programs kept on disk between runs."""

import os

from keras_seminar.backend.dispatch import name

__all__ = ["enable_compilation_cache"]


def enable_compilation_cache(directory):
    """Keeps compiled XLA programs on disk between runs (JAX); a no-op elsewhere."""
    if name() == "jax":
        import jax

        os.makedirs(directory, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", directory)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
