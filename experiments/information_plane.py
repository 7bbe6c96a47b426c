"""The information plane done right: Shwartz-Ziv & Tishby (2017) on their own task, tanh vs ReLU
(Saxe et al. 2018), and MNIST with an unsaturated estimator beside its random control."""

import dataclasses
from typing import Annotated

import keras
import numpy as np
from keras_seminar.experiments import _information_render, _information_task, _runner
from keras_seminar.experiments._config import Count, Dataset, Natural, Positive, Range, one_of
from keras_seminar.experiments._protocol import Experiment, register

from keras_seminar.callbacks.information_plane import estimate_information, random_control
from keras_seminar.training import fit_arrays, recipe_for

__all__ = ["ACTIVATIONS", "Bins", "Config", "InformationPlane", "informations", "ranges"]

ACTIVATIONS = ("tanh", "relu")  # the two whose fixed bin ranges `ranges` knows
Bins = Annotated[int, Range(2)]


@dataclasses.dataclass
class Config:
    # (a), (b): the 12-bit task of Shwartz-Ziv & Tishby (2017), net 12-10-7-5-4-3-2 (see
    # _information_task); all 4,096 inputs are the probe, so log2(4096) = 12 bits is I(X;T)'s ceiling.
    activations: tuple[one_of(*ACTIVATIONS), ...] = ("tanh", "relu")
    hidden: tuple[Count, ...] = (10, 7, 5, 4, 3)
    train_fraction: Annotated[float, Range(0, 1, low_open=True, high_open=True)] = 0.85   # the paper's 85% training split, a fresh one per run
    epochs: Count = 10_000           # Saxe et al.'s 10^4 epochs (the paper shows up to ~10^4)
    batch_size: Count = 256          # Adam 4e-4, batch 256: Saxe et al.'s replication code
    learning_rate: Positive = 4e-4
    bins: Bins = 30                 # 30 equal bins over a range fixed for the whole run: tanh [-1, 1];
    #                                  ReLU [0, the run's largest hidden activation at any measured epoch];
    #                                  the softmax output [0, 1]
    log_points: Count = 40           # measured epochs: 0 and ~40 log-spaced ones up to `epochs`
    chunk_epochs: Count = 100        # epochs of indices built per fit call (memory), all runs at once
    steps_per_execution: Count = 64  # compiled steps per call (TF: one while loop)
    seeds: Count = 20                # runs per activation (the paper: 50)
    # (c) MNIST: the same narrowing widths, so a few bins per unit leave I(X;T) below log2(N).
    mnist_dataset: Dataset = "mnist"
    mnist_hidden: tuple[Count, ...] = (10, 7, 5, 4, 3)
    mnist_epochs: Count = 30
    mnist_batch_size: Count = 256
    mnist_learning_rate: Positive = 1e-3
    mnist_bins: Bins = 3            # equal bins per unit over the same fixed ranges as above; a 5-epoch
    #                                  pilot (seed 0, tanh): with 4 the random control's I(T;Y) (real labels)
    #                                  matched fc1's estimate, with 30 every layer sat at its ceiling
    mnist_log_points: Count = 16
    mnist_probe: Bins | None = None # test images the informations are estimated on (None: all 10k)
    mnist_train_limit: Count | None = None  # None: all 54k training images
    mnist_seeds: Natural = 5           # the first `mnist_seeds` seeds


def ranges(activation, hidden_acts, n_hidden):
    """The fixed bin range of every layer (hidden ones, then the softmax output) for a whole run:
    tanh [-1, 1]; ReLU [0, the largest hidden activation at any measured epoch]."""
    if activation == "tanh":
        hidden = (-1.0, 1.0)
    else:
        top = max(float(a.max()) for acts in hidden_acts for a in acts[:n_hidden])
        hidden = (0.0, max(top, 1e-6))
    return [hidden] * n_hidden + [(0.0, 1.0)]


def informations(acts_per_epoch, y, bins, layer_ranges, seed, controls="last"):
    """Per measured epoch and layer: I(X;T), I(T;Y) and (at every epoch, or the last only) the
    random control's I(X;T), I(T;Y) with the real labels and with permuted labels, in bits."""
    out = {k: [] for k in ("I_XT", "I_TY", "control_I_XT", "control_real_I_TY", "control_I_TY")}
    last = len(acts_per_epoch) - 1
    for e, acts in enumerate(acts_per_epoch):
        row = [estimate_information(t, y, bins=bins, bin_range=r) for t, r in zip(acts, layer_ranges, strict=True)]
        out["I_XT"].append([round(a, 4) for a, _ in row])
        out["I_TY"].append([round(b, 4) for _, b in row])
        if controls == "all" or e == last:
            options = [{"bins": bins, "bin_range": r, "seed": seed} for r in layer_ranges]
            shuffled = [random_control(t, y, **o) for t, o in zip(acts, options, strict=True)]
            real = [random_control(t, y, shuffle_labels=False, **o)[1] for t, o in zip(acts, options, strict=True)]
            out["control_I_XT"].append([round(a, 4) for a, _ in shuffled])
            out["control_I_TY"].append([round(b, 4) for _, b in shuffled])
            out["control_real_I_TY"].append([round(b, 4) for b in real])
    return out


def _run_sz2017(config, todo):
    """`{(activation, seed): record}` of the 12-bit task's runs `todo`, trained together as one model."""
    stored = []  # per measured epoch: every layer's activations, (4096, K, width)
    accuracies = []
    epochs = _information_task.train(todo, config, lambda e, acts, acc: (stored.append(acts), accuracies.append(acc)))
    y, n_hidden, out = _information_task.labels(), len(config.hidden), {}
    for k, (activation, seed) in enumerate(todo):
        acts = [[a[:, k, :] for a in per_epoch] for per_epoch in stored]
        layer_ranges = ranges(activation, acts, n_hidden)
        info = informations(acts, y, config.bins, layer_ranges, seed)
        out[(activation, seed)] = dict(epochs=epochs, bin_ranges=layer_ranges, **info,
                                       train_accuracy=[a[k][0] for a in accuracies],
                                       test_accuracy=[a[k][1] for a in accuracies])
    return out


class _Recorder(keras.callbacks.Callback):
    """Every layer's activations on the probe at epoch 0 and at the `epochs` listed (1-based)."""

    def __init__(self, probe, epochs):
        super().__init__()
        self.probe, self.epochs, self.acts, self.measured = probe, set(epochs), [], []

    def _measure(self, epoch):
        outputs = self._extractor.predict(self.probe, batch_size=2048, verbose=0)
        self.acts.append([np.asarray(a, np.float32) for a in outputs])
        self.measured.append(epoch)

    def on_train_begin(self, logs=None):
        names = [layer.name for layer in self.model.layers if layer.name.startswith("fc")] + ["predictions"]
        self._extractor = keras.Model(self.model.inputs, [self.model.get_layer(n).output for n in names])
        self._measure(0)

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 in self.epochs:
            self._measure(epoch + 1)


def _run_mnist(config, data, seed, activation):
    model = _runner.build_mlp(seed, hidden=config.mnist_hidden, activation=activation)
    recorder = _Recorder(data.x_test, _information_task.log_epochs(config.mnist_epochs, config.mnist_log_points))
    recipe = recipe_for("mlp", epochs=config.mnist_epochs, batch_size=config.mnist_batch_size,
                        learning_rate=config.mnist_learning_rate)
    history = fit_arrays(model, recipe, data.x_train, data.y_train, callbacks=[recorder], seed=seed,
                         steps_per_execution=config.steps_per_execution)
    layer_ranges = ranges(activation, recorder.acts, len(config.mnist_hidden))
    info = informations(recorder.acts, data.y_test, config.mnist_bins, layer_ranges, seed, controls="all")
    test_accuracy = [float(np.mean(a[-1].argmax(-1) == data.y_test)) for a in recorder.acts]
    return dict(epochs=recorder.measured, bin_ranges=layer_ranges, **info, test_accuracy=test_accuracy,
                train_accuracy_per_epoch=[round(v, 5) for v in history.history["accuracy"]], probe=len(data.y_test))


@register
class InformationPlane(Experiment):
    name = "information_plane"
    title = "Information plane: fitting and compression, tanh vs ReLU"
    question = ("Do the hidden layers first fit (I(T;Y) rises) and then compress (I(X;T) falls), as "
                "Shwartz-Ziv & Tishby (2017) report for tanh nets on their 12-bit task, and does a ReLU net "
                "compress too (Saxe et al. 2018 say no)? And on MNIST, with an estimator that is not "
                "saturated, is there anything beside its random-activations control? (seminar 000, point (3); "
                "toolbox measured: keras_seminar.callbacks.information_plane)")
    config = Config()
    smoke = dict(hidden=(5, 3), epochs=4, batch_size=512, log_points=3, steps_per_execution=8, seeds=2,
                 mnist_hidden=(4, 3), mnist_epochs=1, mnist_log_points=1, mnist_probe=256, mnist_train_limit=512,
                 mnist_seeds=1)
    headline = ("test_accuracy",)

    def plan(self, config, seeds):
        for activation in config.activations:
            for seed in seeds:
                yield {"task": "sz2017", "activation": activation}, seed
        for seed in seeds[:config.mnist_seeds]:
            for activation in config.activations:
                yield {"task": "mnist", "activation": activation}, seed

    def data(self, config, arm, seed):
        if arm["task"] == "sz2017":
            return None  # the 4,096 patterns of _information_task
        return _runner.load(config.mnist_dataset, seed, config.mnist_train_limit, test_limit=config.mnist_probe)

    def run_arm(self, config, arm, seed, data):
        if arm["task"] == "mnist":
            return _run_mnist(config, data, seed, arm["activation"])
        # The 12-bit task's runs still missing train together as one model, the first time one is
        # asked for (thousands of epochs of 40 tiny nets fit a CPU only so); the loop adds each.
        todo = [(a["activation"], s) for a, s in self.plan(config, list(range(config.seeds)))
                if a["task"] == "sz2017" and self.runs.get(a, s) is None]
        return self.shared("sz2017", None, lambda: _run_sz2017(config, todo))[(arm["activation"], seed)]

    def render(self, config, results, report):
        _information_render.render(config, results, report)
