"""TensorBoard logging on every Keras backend, without TensorFlow.

Keras's own `keras.callbacks.TensorBoard` needs TensorFlow (keras-team/keras#19121); the GPU
machine runs JAX alone. This callback writes through tensorboardX's `SummaryWriter` (needs
only numpy and protobuf) in Keras's directory layout, so `tensorboard --logdir runs` shows the
same `epoch_loss` / `epoch_accuracy` / `epoch_learning_rate` charts under `train` and
`validation` whatever the backend — plus weight and gradient histograms, first-layer filter
images, the model summary as text and an HParams session.
"""

import json
import warnings

import keras
import numpy as np

from keras_seminar._validators import check_int, check_str
from keras_seminar.callbacks._probes import kernel_variables, probe_gradients
from keras_seminar.callbacks._writer import RunWriter
from keras_seminar.errors import UsageError

__all__ = ["TensorBoard", "current_learning_rate", "filter_grid"]


def current_learning_rate(optimizer):
    """The optimizer's learning rate now, as a float (schedules evaluated at `iterations`)."""
    lr = optimizer.learning_rate
    return float(keras.ops.convert_to_numpy(lr))


def _unit_range(a):
    a = np.asarray(a, dtype=np.float64)
    lo, span = a.min(), np.ptp(a)
    return (a - lo) / span if span > 0 else np.zeros_like(a)  # constant (e.g. zero) -> black


def filter_grid(kernel, input_shape=None, max_filters=64, pad=1):
    """A receptive-field mosaic of first-layer filters, as an (H, W) or (H, W, 3) image in [0, 1].

    Args:
        kernel: a Conv2D kernel (kh, kw, in, out) or a Dense kernel (inputs, units).
        input_shape: the model's input shape without the batch axis; a Dense kernel is shown
            only when its inputs are an image, i.e. `input_shape` is (H, W) or (H, W, C) and
            `prod(input_shape) == inputs`.
        max_filters: show at most this many filters (the first ones).

    Returns None when the kernel cannot be shown as images. Each filter is scaled to [0, 1] on
    its own; an all-zero filter shows black, never NaN.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    image_input = input_shape is not None and len(input_shape) in (2, 3) and None not in input_shape
    if kernel.ndim == 4:
        tiles = np.moveaxis(kernel, -1, 0)  # (out, kh, kw, in)
    elif kernel.ndim == 2 and image_input and np.prod(input_shape) == kernel.shape[0]:
        shape = tuple(input_shape) + ((1,) if len(input_shape) == 2 else ())
        tiles = kernel.T.reshape((-1,) + shape)
    else:
        return None
    if tiles.shape[-1] != 3:
        tiles = tiles.mean(axis=-1, keepdims=True)
    tiles = np.stack([_unit_range(t) for t in tiles[:max_filters]])
    n, h, w, c = tiles.shape
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad, c))
    for i, tile in enumerate(tiles):
        r, q = divmod(i, cols)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + q * (w + pad):pad + q * (w + pad) + w] = tile
    return grid[..., 0] if c == 1 else grid


class TensorBoard(keras.callbacks.Callback):
    """Scalars, weight/gradient histograms, images, text and HParams for TensorBoard on any backend.

    Args:
        log_dir: the run's folder, e.g. "runs/cnn_fashion_mnist_s0".
        update_freq: "epoch", or an integer N to also log batch loss/metrics every N steps.
        histogram_freq: log weight histograms (and gradient histograms, given `probe_data`)
            every N epochs; 0 = never.
        write_images: log filters as an image grid every `histogram_freq` epochs (every epoch
            when `histogram_freq=0`): those of the first layer with a drawable kernel (a 2-D
            convolution's, an `MLPConv`'s first convolution included, or a Dense kernel over
            the image input). Warns once when the model has none.
        probe_data: a fixed small batch `(x, y)` on which gradient histograms are computed.
        hparams: a dict of hyperparameters: written as text at the start and, with the final
            metrics, as an HParams session at the end.
        write_text: write the model summary as text at the start.
        write_scalars: False leaves scalars to another TensorBoard callback on the same folder.

    Example:
        >>> model.fit(x, y, callbacks=[TensorBoard("runs/demo", histogram_freq=1,
        ...                                        probe_data=(x[:64], y[:64]))])
    """

    def __init__(self, log_dir="runs", update_freq="epoch", histogram_freq=0, write_images=False,
                 probe_data=None, hparams=None, write_text=True, write_scalars=True):
        super().__init__()
        log_dir = check_str("log_dir", log_dir)
        if update_freq != "epoch":
            check_int("update_freq", update_freq, 1)
        self.histogram_freq = check_int("histogram_freq", histogram_freq, 0)
        if probe_data is not None and (not isinstance(probe_data, (tuple, list)) or len(probe_data) != 2):
            raise UsageError(f"Expected probe_data to be a pair (x, y). Received: probe_data={probe_data!r}")
        if hparams is not None and not isinstance(hparams, dict):
            raise UsageError(f"Expected hparams to be a dict. Received: hparams={hparams!r}")
        self.log_dir = log_dir
        self.update_freq = update_freq
        self.write_images = bool(write_images)
        self.probe_data = probe_data
        self.hparams = hparams
        self.write_text = bool(write_text)
        self.write_scalars = bool(write_scalars)
        self.run_writer = RunWriter(self.log_dir)
        self._warned = set()

    def writer(self, split):
        """The tensorboardX writer of `split` ("train", "validation", ...), opened lazily."""
        return self.run_writer(split)

    def on_train_begin(self, logs=None):
        opt = self.model.optimizer
        self._global_step = int(keras.ops.convert_to_numpy(opt.iterations)) if opt is not None and opt.built else 0
        self._epoch_start, self._last_logs, self._last_epoch = self._global_step, {}, 0
        self._warned = set()
        if self.write_text:
            self.writer("train").add_text("model/summary", _indent(_summary(self.model)), 0)
        if self.hparams:
            text = json.dumps(self.hparams, indent=2, sort_keys=True, default=str)
            self.writer("train").add_text("run/hparams", _indent(text), 0)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = self._global_step

    def on_train_batch_end(self, batch, logs=None):
        # `batch` is the last step run, also when steps_per_execution > 1 runs several per call.
        previous, self._global_step = self._global_step, self._epoch_start + batch + 1
        if (not self.write_scalars or self.update_freq == "epoch"
                or self._global_step // self.update_freq == previous // self.update_freq):
            return
        for key, value in (logs or {}).items():
            self.writer("train").add_scalar(f"batch_{key}", float(value), self._global_step)

    def on_epoch_end(self, epoch, logs=None):
        self._last_logs, self._last_epoch = dict(logs or {}), epoch
        if self.write_scalars:
            for key, value in (logs or {}).items():
                split, tag = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
                if tag != "learning_rate":
                    self.writer(split).add_scalar(f"epoch_{tag}", float(value), epoch)
            if self.model.optimizer is not None:
                self.writer("train").add_scalar(
                    "epoch_learning_rate", current_learning_rate(self.model.optimizer), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self.log_weight_histograms(epoch)
            if self.probe_data is not None:
                self.log_gradient_histograms(epoch)
        if self.write_images and epoch % max(self.histogram_freq, 1) == 0:
            self.log_filters(epoch)
        self.run_writer.flush()

    def log_weight_histograms(self, step):
        for variable in self.model.trainable_weights:
            values = np.asarray(keras.ops.convert_to_numpy(variable.value), dtype=np.float32)
            self.writer("train").add_histogram(variable.path.replace("/", "_") + "/histogram",
                                               values, step)

    def log_gradient_histograms(self, step):
        """Histograms of d loss / d w on `probe_data`, one per trainable weight."""
        variables = self.model.trainable_weights
        _, grads = probe_gradients(self.model, *self.probe_data, variables=variables)
        for variable, grad in zip(variables, grads, strict=True):
            self.writer("train").add_histogram(variable.path.replace("/", "_") + "/gradient",
                                               grad.astype(np.float32), step)

    def log_filters(self, step):
        """The first drawable kernel as a filter mosaic under "filters/<label>" ("filters/conv",
        "filters/block/block_conv0" for an `MLPConv`); returns the label, or None (and warns
        once per `fit`) when no kernel can be drawn."""
        input_shape = _input_shape(self.model)
        kernels = kernel_variables(self.model)
        for label, kernel in kernels:
            grid = filter_grid(keras.ops.convert_to_numpy(kernel), input_shape)
            if grid is not None:
                self.log_images(f"filters/{label}", grid[None], step)
                return label
        self.warn_once("filters", f"TensorBoard(write_images=True) draws no filter images for model "
                       f"{self.model.name!r}: none of its kernels "
                       f"{[(label, tuple(k.shape)) for label, k in kernels[:4]]} is a 2-D convolution's or "
                       f"a Dense kernel over an image input (input shape {input_shape}). Pass "
                       "write_images=False, or log your own pictures with log_images().")
        return None

    def warn_once(self, key, message):
        """`warnings.warn(message)` the first time `key` comes up in this `fit`."""
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, stacklevel=3)

    def log_images(self, tag, images, step, normalize=False):
        """Logs a batch of images, e.g. adversarial examples, as one mosaic under `tag`.

        Args:
            tag: the image tag, e.g. "adversarial/fgsm_eps0.1".
            images: (N, H, W) or (N, H, W, C) with C in {1, 3}, values in [0, 1] (clipped), or
                any range with `normalize=True` (each image scaled to [0, 1] on its own).
            step: the global step or epoch.
        """
        images = np.asarray(images, dtype=np.float64)
        if images.ndim == 3:
            images = images[..., None]
        if images.ndim != 4 or images.shape[-1] not in (1, 3):
            raise UsageError(f"Expected images of shape (N, H, W) or (N, H, W, 1|3). Received: shape={images.shape}")
        images = np.stack([_unit_range(i) for i in images]) if normalize else np.clip(images, 0, 1)
        images = np.nan_to_num(images)
        self.writer("train").add_images(tag, images.astype(np.float32), step, dataformats="NHWC")
        self.writer("train").flush()

    def on_train_end(self, logs=None):
        if self.hparams:
            self.log_hparams(self._last_logs)
        self.close()

    def log_hparams(self, metrics):
        """One HParams session at the run's root: `hparams` and the final `metrics`."""
        from tensorboardX.summary import hparams as hparams_summary

        hp = {k: v if isinstance(v, (bool, str, int, float)) else str(v) for k, v in self.hparams.items()}
        final = {f"hparams/{k}": float(v) for k, v in metrics.items()}
        root = self.writer("")
        for summary in hparams_summary(hp, final):
            root.file_writer.add_summary(summary)
        self.run_writer.scalars(final, self._last_epoch, split="")

    def close(self):
        self.run_writer.close()


def _summary(model):
    lines = []
    try:
        model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    except ValueError as e:  # an unbuilt subclassed model has no summary yet
        return f"(no summary: {e})"
    return "\n".join(lines)


def _indent(text):
    """Markdown code block (4-space indent) so TensorBoard's text plugin keeps alignment."""
    return "\n".join("    " + line for line in text.splitlines())


def _input_shape(model):
    try:
        return tuple(model.inputs[0].shape[1:])
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
