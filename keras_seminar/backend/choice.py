"""Which Keras backend a process gets when its user has not chosen one (read before Keras loads).

Keras takes `$KERAS_BACKEND`, else `keras.json`'s `"backend"`, else TensorFlow, and fails to
import when that framework is missing. The package keeps the user's choice whenever there is
one, keeps Keras's default where TensorFlow is installed (on a CPU it is also the fastest
backend for the package's models: `benchmarks/cpu_speed.py`, part `backends`), and otherwise
picks the first installed of JAX and torch instead of failing, so an environment made with
`pip install keras-seminar[jax]` works without setting anything. `chosen()` says what happened,
for the CLI to print.
"""

import importlib.util
import json
import os
import sys

__all__ = ["choose", "chosen", "configured", "FALLBACKS", "installed", "JAX_CPU_SLOWDOWN", "notice"]

FALLBACKS = ("jax", "torch")
# Measured by `python benchmarks/cpu_speed.py --parts backends` (benchmarks/results/cpu_speed.json).
JAX_CPU_SLOWDOWN = "2.3-9x"  # cnn 2.3, speedrun_small 2.5, fast_cnn 3.0, lenet5 9.0 (2026-12-03)
_CHOICE = {"backend": None, "reason": None}


def configured():
    """The backend the user asked for: `$KERAS_BACKEND`, else keras.json's, else None."""
    name = os.environ.get("KERAS_BACKEND")
    if name:
        return name
    path = os.path.join(os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras")), "keras.json")
    try:
        with open(path) as f:
            return json.load(f).get("backend")
    except (OSError, ValueError, AttributeError):
        return None


def installed(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def choose():
    """Sets `KERAS_BACKEND` when no backend was chosen and TensorFlow is absent; returns it.

    Keras writes `"backend": "tensorflow"` into a new keras.json by itself, so that value is
    not taken as a choice when TensorFlow is missing. Does nothing once Keras is imported.
    """
    if "keras" in sys.modules or os.environ.get("KERAS_BACKEND"):
        return None
    if configured() not in (None, "tensorflow") or installed("tensorflow"):
        return None
    for name in FALLBACKS:
        if installed(name):
            os.environ["KERAS_BACKEND"] = name
            _CHOICE.update(backend=name, reason="TensorFlow, Keras's default, is not installed")
            return name
    return None


def notice(backend, on_cpu, user_chose):
    """The line the CLI prints about its backend, or None.

    Args:
        backend: the backend in use.
        on_cpu: True when it computes on the CPU (no accelerator).
        user_chose: True when `$KERAS_BACKEND` was set by the user.
    """
    picked, reason = chosen()
    if picked:
        return f"using the {picked} backend ({reason}; set KERAS_BACKEND to choose one)"
    if not on_cpu:
        return None
    if backend == "tensorflow" and not user_chose:
        return (f"backend tensorflow, Keras's default and the fastest for these models on a CPU "
                f"(JAX took {JAX_CPU_SLOWDOWN} its time here); set KERAS_BACKEND to choose one")
    if backend == "jax" and installed("tensorflow"):
        return (f"note: on a CPU, JAX takes {JAX_CPU_SLOWDOWN} TensorFlow's time for these "
                "models here; KERAS_BACKEND=tensorflow uses the installed TensorFlow")
    return None


def chosen():
    """(backend, reason) when `choose()` picked the backend in this process, else (None, None)."""
    return _CHOICE["backend"], _CHOICE["reason"]
