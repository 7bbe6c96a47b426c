"""The information plane done right: Shwartz-Ziv & Tishby (2017) on their own task, tanh vs ReLU
(Saxe et al. 2018), and MNIST with an unsaturated estimator beside its random control."""

import dataclasses
from typing import Annotated

import keras
import numpy as np
from keras_seminar.experiments import _information_render, _information_task, _report, _runner
from keras_seminar.experiments._config import Count, Dataset, Natural, Positive, Range, one_of
from keras_seminar.experiments._protocol import Experiment, register

from keras_seminar.callbacks.information_plane import estimate_information, random_control
from keras_seminar.training import fit_arrays, recipe_for

__all__ = ["ACTIVATIONS", "Bins", "Config", "InformationPlane", "estimators", "informations", "ranges"]

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
    bins: tuple[Bins, ...] = (30, 10, 100)  # equal bins per unit over a range fixed per layer for the whole
    #                                  run (`ranges`); the first (the paper's 30) fills the main tables
    kde_noise_variance: Positive = 0.1  # sigma^2 of the KDE bound (Saxe et al. 2018, App. B.1: 0.1)
    log_points: Count = 40           # measured epochs: 0 and ~40 log-spaced ones up to `epochs`
    chunk_epochs: Count = 100        # epochs of indices built per fit call (memory), all runs at once
    steps_per_execution: Count = 64  # compiled steps per call (TF: one while loop)
    seeds: Count = 20                # runs per activation, and as many on permuted labels (the paper: 50)
    # (c) MNIST: the same narrowing widths, so a few bins per unit leave I(X;T) below log2(N).
    mnist_dataset: Dataset = "mnist"
    mnist_hidden: tuple[Count, ...] = (10, 7, 5, 4, 3)
    mnist_epochs: Count = 200        # a cap: each run stops on its plateau (`_report.last_fall`: the
    #                                  validation loss fell < PLATEAU_TOLERANCE over the last 5 epochs)
    mnist_batch_size: Count = 256
    mnist_learning_rate: Positive = 1e-3
    mnist_bins: Bins = 3            # equal bins per unit over the same fixed ranges as above; a 5-epoch
    #                                  pilot (seed 0, tanh): with 4 the random control's I(T;Y) (real labels)
    #                                  matched fc1's estimate, with 30 every layer sat at its ceiling
    mnist_log_points: Count = 16
    mnist_probe: Bins | None = None # test images the informations are estimated on (None: all 10k)
    mnist_kde_probe: Bins = 2000    # the first N of those for the KDE bound (N^2 kernels per estimate)
    mnist_train_limit: Count | None = None  # None: all 54k training images
    mnist_seeds: Natural = 5           # the first `mnist_seeds` seeds


def ranges(activation, hidden_acts, n_hidden):
    """The fixed bin range of every layer (hidden ones, then the softmax output) for a whole run:
    tanh [-1, 1]; ReLU, each layer its own [0, its largest activation at any measured epoch]."""
    if activation == "tanh":
        return [(-1.0, 1.0)] * n_hidden + [(0.0, 1.0)]
    tops = [max(float(acts[j].max()) for acts in hidden_acts) for j in range(n_hidden)]
    return [(0.0, max(top, 1e-6)) for top in tops] + [(0.0, 1.0)]


def estimators(config, task):
    """`{name: (estimate_information options, probe limit)}` of a task: binning at each bin count
    (the first is the main one) and the KDE upper bound."""
    bins = config.bins if task == "sz2017" else (config.mnist_bins,)
    out = {f"bins{b}": ({"bins": b}, None) for b in bins}
    out["kde"] = ({"estimator": "kde", "noise_variance": config.kde_noise_variance},
                  None if task == "sz2017" else config.mnist_kde_probe)
    return out


def _estimate(t, y, options, layer_range, limit, control=None, seed=0):
    """One `(I(X;T), I(T;Y))` (rounded) of activations `t`, or of its random control
    (`control="real"` or `"permuted"` labels), on the first `limit` probe samples."""
    t, y = t[:limit], y[:limit]
    options = {**options, "bin_range": layer_range}
    if control is None:
        pair = estimate_information(t, y, **options)
    else:
        pair = random_control(t, y, seed=seed, shuffle_labels=control == "permuted", **options)
    return [round(v, 4) for v in pair]


def informations(acts, y, layer_ranges, specs, seed, at=None, controls=False):
    """`{estimator: {"I_XT", "I_TY": per measured epoch, per layer}}` in bits (None where an
    epoch is not in `at[estimator]`; default every epoch). `controls=True` also computes the random
    control at `at` (default: the end of fitting of each layer, and the last epoch):
    "control_I_XT", "control_real_I_TY", and "control_I_TY" (permuted labels, last epoch only)."""
    out, last = {}, len(acts) - 1
    for name, (options, limit) in specs.items():
        todo = range(len(acts)) if at is None else at[name]
        rows = {e: [_estimate(t, y, options, r, limit) for t, r in zip(acts[e], layer_ranges, strict=True)]
                for e in todo}
        rec = {k: [[p[i] for p in rows[e]] if e in rows else None for e in range(len(acts))]
               for i, k in enumerate(("I_XT", "I_TY"))}
        if controls:
            at_c = sorted({*_information_render.fit_index(rec["I_TY"]), last})
            both = {e: [_estimate(t, y, options, r, limit, "real", seed) for t, r in zip(acts[e], layer_ranges)]
                    for e in at_c}
            rec["control_I_XT"] = [[p[0] for p in both[e]] if e in both else None for e in range(len(acts))]
            rec["control_real_I_TY"] = [[p[1] for p in both[e]] if e in both else None for e in range(len(acts))]
            rec["control_I_TY"] = [_estimate(t, y, options, r, limit, "permuted", seed)[1]
                                   for t, r in zip(acts[last], layer_ranges, strict=True)]
            rec["measured"] = at_c
        out[name] = rec
    return out


def _measured(real):
    """Per estimator: the epochs (indices) a real-label run's controls were measured at."""
    return {name: rec["measured"] for name, rec in real["estimates"].items()}


def _run_sz2017(config, todo):
    """`{(activation, permuted, seed): record}` of the 12-bit task's runs `todo`
    (`[(activation, seed, permuted), ...]`), trained together as one model; a permuted-label run
    is measured at the epochs its real-label twin's controls were."""
    stored = []  # per measured epoch: every layer's activations, (4096, K, width)
    accuracies = []
    epochs = _information_task.train(todo, config, lambda e, acts, acc: (stored.append(acts), accuracies.append(acc)))
    n_hidden, specs, out = len(config.hidden), estimators(config, "sz2017"), {}
    for k, (activation, seed, permuted) in sorted(enumerate(todo), key=lambda item: item[1][2]):  # real first
        acts = [[a[:, k, :] for a in per_epoch] for per_epoch in stored]
        y, layer_ranges = _information_task.run_labels(seed, permuted), ranges(activation, acts, n_hidden)
        twin = out.get((activation, False, seed))
        at = _measured(twin) if permuted and twin else None
        info = informations(acts, y, layer_ranges, specs, seed, at=at, controls=not permuted)
        out[(activation, permuted, seed)] = dict(epochs=epochs, bin_ranges=layer_ranges, estimates=info,
                                                 train_accuracy=[a[k][0] for a in accuracies],
                                                 test_accuracy=[a[k][1] for a in accuracies])
    return out


class _Recorder(keras.callbacks.Callback):
    """Every layer's activations on the probe at epoch 0, at the `epochs` listed (1-based) and at
    the last; with `plateau`, stops training once the validation loss is on its plateau (it fell
    less than `_report.PLATEAU_TOLERANCE` over the last 5 epochs, `_report.last_fall`)."""

    def __init__(self, probe, epochs, plateau=False):
        super().__init__()
        self.probe, self.epochs, self.plateau, self.acts, self.measured = probe, set(epochs), plateau, [], []

    def _measure(self, epoch):
        outputs = self._extractor.predict(self.probe, batch_size=2048, verbose=0)
        self.acts.append([np.asarray(a, np.float32) for a in outputs])
        self.measured.append(epoch)

    def on_train_begin(self, logs=None):
        names = [layer.name for layer in self.model.layers if layer.name.startswith("fc")] + ["predictions"]
        self._extractor = keras.Model(self.model.inputs, [self.model.get_layer(n).output for n in names])
        self.val_loss, self.done = [], 0
        self._measure(0)

    def on_epoch_end(self, epoch, logs=None):
        self.done = epoch + 1
        if epoch + 1 in self.epochs:
            self._measure(epoch + 1)
        if self.plateau:
            self.val_loss.append(float(logs["val_loss"]))
            fall = _report.last_fall(self.val_loss)
            self.model.stop_training = fall is not None and fall < _report.PLATEAU_TOLERANCE

    def on_train_end(self, logs=None):
        if self.measured[-1] != self.done:
            self._measure(self.done)


def _run_mnist(config, data, seed, activation, twin=None):
    """One MNIST run on the real labels, trained to its plateau, or (`twin`, its real-label record)
    on training labels permuted once, for as many epochs as the twin and measured at its epochs."""
    model = _runner.build_mlp(seed, hidden=config.mnist_hidden, activation=activation)
    if twin is None:
        epochs, y_train = config.mnist_epochs, data.y_train
        measure = _information_task.log_epochs(config.mnist_epochs, config.mnist_log_points)
    else:
        epochs, measure = twin["epochs"][-1], twin["epochs"]
        y_train = np.random.default_rng(3_000_000 + seed).permutation(data.y_train)
    recorder = _Recorder(data.x_test, measure, plateau=twin is None)
    recipe = recipe_for("mlp", epochs=epochs, batch_size=config.mnist_batch_size,
                        learning_rate=config.mnist_learning_rate)
    history = fit_arrays(model, recipe, data.x_train, y_train, callbacks=[recorder], seed=seed,
                         validation_data=data.validation if twin is None else None,
                         steps_per_execution=config.steps_per_execution)
    layer_ranges = ranges(activation, recorder.acts, len(config.mnist_hidden))
    specs = estimators(config, "mnist")
    info = informations(recorder.acts, data.y_test, layer_ranges, specs, seed,
                        at=None if twin is None else _measured(twin), controls=twin is None)
    test_accuracy = [float(np.mean(a[-1].argmax(-1) == data.y_test)) for a in recorder.acts]
    return dict(epochs=recorder.measured, bin_ranges=layer_ranges, estimates=info, test_accuracy=test_accuracy,
                train_accuracy_per_epoch=[round(v, 5) for v in history.history["accuracy"]],
                val_loss=[round(v, 5) for v in recorder.val_loss], probe=len(data.y_test))


@register
class InformationPlane(Experiment):
    name = "information_plane"
    title = "Information plane: fitting and compression, tanh vs ReLU"
    question = ("Do the hidden layers first fit (I(T;Y) rises) and then compress (I(X;T) falls), as "
                "Shwartz-Ziv & Tishby (2017) report for tanh nets on their 12-bit task, and does a ReLU net "
                "compress too (Saxe et al. 2018 say no)? Is any compression apart from two controls, random "
                "activations and nets trained on permuted labels, under binning at several bin counts and a "
                "KDE bound, there and on MNIST? (seminar 000, point (3); toolbox measured: "
                "keras_seminar.callbacks.information_plane)")
    config = Config()
    smoke = dict(hidden=(5, 3), epochs=4, batch_size=512, log_points=3, steps_per_execution=8, seeds=2,
                 mnist_hidden=(4, 3), mnist_epochs=7, mnist_log_points=2, mnist_probe=256, mnist_kde_probe=128,
                 mnist_train_limit=512, mnist_seeds=1)
    headline = ("test_accuracy",)

    def plan(self, config, seeds):
        for labels in ("real", "permuted"):
            for activation in config.activations:
                for seed in seeds:
                    yield {"task": "sz2017", "activation": activation, "labels": labels}, seed
        for seed in seeds[:config.mnist_seeds]:
            for labels in ("real", "permuted"):  # a permuted-label run copies its real twin's epochs
                for activation in config.activations:
                    yield {"task": "mnist", "activation": activation, "labels": labels}, seed

    def data(self, config, arm, seed):
        if arm["task"] == "sz2017":
            return None  # the 4,096 patterns of _information_task
        return self.shared("data", seed, lambda: _runner.load(config.mnist_dataset, seed, config.mnist_train_limit,
                                                             test_limit=config.mnist_probe))

    def run_arm(self, config, arm, seed, data):
        permuted = arm["labels"] == "permuted"
        if arm["task"] == "mnist":
            twin = self.runs.get({**arm, "labels": "real"}, seed) if permuted else None
            return _run_mnist(config, data, seed, arm["activation"], twin)
        # The 12-bit task's runs still missing train together as one model, the first time one is
        # asked for (thousands of epochs of 80 tiny nets fit a CPU only so); the loop adds each.
        todo = [(a["activation"], s, a["labels"] == "permuted") for a, s in self.plan(config, list(range(config.seeds)))
                if a["task"] == "sz2017" and self.runs.get(a, s) is None]
        return self.shared("sz2017", None, lambda: _run_sz2017(config, todo))[(arm["activation"], permuted, seed)]

    def render(self, config, results, report):
        _information_render.render(config, results, report)
