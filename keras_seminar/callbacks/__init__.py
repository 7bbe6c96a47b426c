"""Callbacks: TensorBoard on every backend, atomic resume, NaN stop, and the seminar's monitors.

Every callback is a leaf: what several share lives in private modules (`_writer` the
tensorboardX run writer, `_probes` probing and layer choice, `_information` the estimators,
`_monitor` the monitors' base class, `hooks` the training engine's hook protocol), and no
callback imports another. The LR range test is a training procedure, in
`keras_seminar.lr_finder`.
"""

from keras_seminar.callbacks.backup import AtomicBackupAndRestore
from keras_seminar.callbacks.gradient_norms import GradientNormMonitor
from keras_seminar.callbacks.hooks import TrainingCallback
from keras_seminar.callbacks.information_plane import InformationPlane
from keras_seminar.callbacks.monitors import make_monitors
from keras_seminar.callbacks.nan_guard import NaNGuard
from keras_seminar.callbacks.sparsity import SparsityMonitor
from keras_seminar.callbacks.tensorboard import TensorBoard

__all__ = ["AtomicBackupAndRestore", "GradientNormMonitor", "InformationPlane", "NaNGuard",
           "SparsityMonitor", "TensorBoard", "TrainingCallback", "make_monitors"]
