"""Callbacks: TensorBoard on every backend, atomic resume, NaN stop, and the seminar's monitors."""

from keras_seminar.callbacks.backup import AtomicBackupAndRestore
from keras_seminar.callbacks.gradient_norms import GradientNormMonitor
from keras_seminar.callbacks.information_plane import InformationPlane
from keras_seminar.callbacks.lr_finder import lr_range_test
from keras_seminar.callbacks.monitors import make_monitors
from keras_seminar.callbacks.nan_guard import NaNGuard
from keras_seminar.callbacks.sparsity import SparsityMonitor
from keras_seminar.callbacks.tensorboard import TensorBoard

__all__ = ["AtomicBackupAndRestore", "GradientNormMonitor", "InformationPlane", "NaNGuard",
           "SparsityMonitor", "TensorBoard", "lr_range_test", "make_monitors"]
