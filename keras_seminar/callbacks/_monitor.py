"""The life cycle the seminar's monitors share: a run writer for the fit, results saved at its end."""

import io
import json
import os

import keras
import numpy as np

from keras_seminar import _io
from keras_seminar.callbacks._writer import RunWriter


class Monitor(keras.callbacks.Callback):
    """Base of `GradientNormMonitor`, `SparsityMonitor` and `InformationPlane`.

    Subclasses call `open_writer()` in `on_train_begin` (after resetting their history) and
    implement `save(folder)`, writing through `write_npz` / `write_json` (atomic); the writer is
    closed and the results saved into `log_dir` when training ends.

    Args:
        log_dir: the run folder, or None to keep results in memory only.
        verbose: print a line per measurement when truthy.
    """

    def __init__(self, log_dir=None, verbose=0):
        super().__init__()
        self.log_dir = None if log_dir is None else str(log_dir)
        self.verbose = verbose
        self._writer = None

    def open_writer(self):
        self._writer = RunWriter(self.log_dir) if self.log_dir else None

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self.save(self.log_dir)

    def save(self, folder):
        raise NotImplementedError

    @staticmethod
    def write_npz(path, **arrays):
        """`np.savez` to `path`, atomically."""
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        _io.atomic_write(path, buffer.getvalue())
        return str(path)

    @staticmethod
    def write_json(path, obj):
        """`obj` as JSON to `path`, atomically (NumPy scalars as numbers)."""
        _io.atomic_write(path, json.dumps(obj, default=lambda v: v.item() if hasattr(v, "item") else str(v)))
        return str(path)

    @staticmethod
    def base_path(folder, name):
        """`folder/name`, with `folder` created."""
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, name)
