"""The life cycle the seminar's monitors share: a run writer for the fit, results saved at its end."""

import keras

from keras_seminar.callbacks.tensorboard import RunWriter


class Monitor(keras.callbacks.Callback):
    """Base of `GradientNormMonitor`, `SparsityMonitor` and `InformationPlane`.

    Subclasses call `open_writer()` in `on_train_begin` (after resetting their history) and
    implement `save(folder)`; the writer is closed and the results saved into `log_dir` when
    training ends.

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
