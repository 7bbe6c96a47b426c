"""The one provenance record: backend, versions, device and command, stored beside every result."""

import importlib
import platform
import sys


def environment():
    """Backend and versions, recorded beside every result (model cards, reports, benchmarks)."""
    import keras
    import numpy

    from keras_seminar.backend import device_description

    backend = keras.backend.backend()
    return {"backend": backend, "backend_version": importlib.import_module(backend).__version__,
            "device": device_description(), "keras": keras.__version__,
            "numpy": numpy.__version__, "python": platform.python_version(),
            "platform": platform.platform(), "command": " ".join(sys.argv)}
