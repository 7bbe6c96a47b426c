"""keras_seminar: a deep-learning research seminar as a Keras 3 package."""

__version__ = "0.1.0"

__all__ = ["__version__"]
