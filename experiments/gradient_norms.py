"""Goodfellow et al., Deep Learning, Fig. 8.1: does the gradient norm grow while validation error falls?"""

import dataclasses
from typing import Annotated

import keras
import numpy as np
from keras_seminar.experiments import _report, _runner, stats
from keras_seminar.experiments._config import Count, Dataset, Length, Positive, one_of
from keras_seminar.experiments._protocol import Experiment, register

from keras_seminar.callbacks import GradientNormMonitor, plots
from keras_seminar.models import build_model

__all__ = ["Config", "GradientNorms", "SETTINGS", "trend"]

SETTINGS = {"constant": "SGD, constant rate", "cosine": "SGD, cosine decay to 0"}


@dataclasses.dataclass
class Config:
    dataset: Dataset = "fashion_mnist"
    # The TF-tutorial CNN, narrowed to fit a CPU: conv5x5 16/32 + dense 128, dropout 0.25.
    filters: Annotated[tuple[Count, ...], Length(2)] = (16, 32)
    dense_units: Count = 128
    # SGD + Nesterov momentum 0.9 (the package's "sgd"); each schedule is one arm, same seeds.
    schedules: tuple[one_of(*SETTINGS), ...] = ("constant", "cosine")
    learning_rate: Positive = 0.01
    batch_size: Count = 128
    epochs: Count = 15                   # a fixed budget (Fig. 8.1 is about a long run, not early stopping): 6.3k steps, ~40 min for 10 runs on 2 cores
    every_n_steps: Count = 10            # one gradient norm every 10 steps (also steps per compiled call) ...
    probe_batch: Count = 128             # ... on a fresh random batch of 128 training images
    train_limit: Count | None = None     # None: all 54k training images (6k are validation)
    test_limit: Count | None = None
    seeds: Count = 5


@register
class GradientNorms(Experiment):
    name = "gradient_norms"
    title = "Gradient norms while the validation error falls (Deep Learning, Fig. 8.1)"
    question = ("Does the gradient norm shrink as training converges, or does it grow while the "
                "validation error still falls, as in Goodfellow, Bengio & Courville (2016), Fig. 8.1? "
                "(seminar 000, point (1))")
    config = Config()
    smoke = dict(epochs=2, every_n_steps=2, probe_batch=32, train_limit=256, test_limit=128, seeds=2)
    headline = ("test_error",)

    def arms(self, config):
        return [{"schedule": schedule} for schedule in config.schedules]

    def run_arm(self, config, arm, seed, data):
        keras.utils.set_random_seed(seed)
        model = build_model("cnn", filters=config.filters, dense_units=config.dense_units, dropout=0.25)
        monitor = GradientNormMonitor(data.x_train, data.y_train, every_n_steps=config.every_n_steps,
                                      batch_size=config.probe_batch, seed=seed)
        history = _runner.fit(model, data, seed, callbacks=[monitor], model_name="cnn", epochs=config.epochs,
                              steps_per_execution=config.every_n_steps, batch_size=config.batch_size,
                              learning_rate=config.learning_rate, optimizer="sgd", schedule=arm["schedule"])
        h = monitor.history
        return dict(steps=h["steps"], global_norm=h["global_norm"], layer_norms=h["layer_norms"],
                    val_error=h["val_error"], steps_per_epoch=int(np.ceil(len(data.y_train) / config.batch_size)),
                    test_error=1.0 - _runner.accuracy(model, data.x_test, data.y_test), history=history)

    def render(self, config, results, report):
        _render(config, results, report)


def trend(record, settle=2):
    """`(log2 last/first, log2 last/after settling, spearman after settling)`: the mean norm of
    the last epoch over that of the first and over that of epoch `settle + 1` (past the early
    transient), and the rank correlation of norm and step after the first `settle` epochs."""
    steps, norms = np.asarray(record["steps"]), np.asarray(record["global_norm"])
    per_epoch = record["steps_per_epoch"]
    epoch = (steps - 1) // per_epoch
    last = norms[epoch == epoch.max()].mean()
    later = epoch >= min(settle, epoch.max())
    later = later if later.sum() >= 3 else np.ones_like(later)  # a smoke-sized run: the whole of it
    return (float(np.log2(last / norms[epoch == 0].mean())),
            float(np.log2(last / norms[epoch == min(settle, epoch.max())].mean())),
            _spearman(steps[later], norms[later]))


def _last_norm(record):
    steps, per_epoch = np.asarray(record["steps"]), record["steps_per_epoch"]
    return float(np.mean(np.asarray(record["global_norm"])[(steps - 1) // per_epoch == (steps.max() - 1) // per_epoch]))


def _spearman(a, b):
    ra, rb = (np.argsort(np.argsort(v)).astype(float) for v in (a, b))
    if len(ra) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0  # a constant series has no order to correlate
    return float(np.corrcoef(ra, rb)[0, 1])


def _render(config, results, report):
    groups = _report.group_runs(results, ("schedule",))
    rows, values = [], {}
    for schedule in config.schedules:
        recs = groups.get((schedule,), [])
        if not recs:
            continue
        ratios, settled, rhos = zip(*(trend(r) for r in recs))
        values[schedule] = (recs, ratios, settled, rhos)
        rows.append((SETTINGS[schedule], len(recs), stats.mean_ci([_last_norm(r) for r in recs]).format(2),
                     stats.mean_ci(ratios).format(2),
                     stats.mean_ci(settled).format(2), stats.mean_ci(rhos).format(2),
                     stats.mean_ci([r["val_error"][0] for r in recs]).format(2, 100),
                     stats.mean_ci([r["val_error"][-1] for r in recs]).format(2, 100),
                     stats.mean_ci([r["test_error"] for r in recs]).format(2, 100)))
    report.table(["setting", "n", "mean norm, last epoch", "log2 norm ratio, last / first epoch", "log2 norm ratio, last / third epoch",
                  "Spearman(step, norm) after epoch 2", "val error, epoch 1, %", "val error, last epoch, %",
                  "test error, %"], rows, title="Mean ± 95% CI over seeds (Student t, sample std)")
    for schedule, (recs, ratios, settled, _) in values.items():
        first = stats.mean_ci([r["val_error"][0] for r in recs])
        last = stats.mean_ci([r["val_error"][-1] for r in recs])
        report.finding(f"{SETTINGS[schedule]}: the gradient norm {_verdict(ratios)} from the first to the "
                       f"last epoch (log2 ratio {stats.mean_ci(ratios).format(2)}) and {_verdict(settled)} "
                       f"from the third to the last (log2 ratio {stats.mean_ci(settled).format(2)}), while "
                       f"the validation error goes from {first.format(2, 100)} % after epoch 1 to "
                       f"{last.format(2, 100)} % after the last.")
    if len(values) == 2:
        x, y = _report.paired(*(groups[(s,)] for s in config.schedules[:2]), lambda r: trend(r)[1])
        if x:
            report.finding("log2 norm ratio, last / third epoch, paired by seed: " + stats.claim(
                SETTINGS[config.schedules[0]], x, SETTINGS[config.schedules[1]], y, digits=2))
    report.text(
        f"Setting: the TF-tutorial CNN narrowed to conv5x5 {config.filters[0]}/{config.filters[1]} + "
        f"dense {config.dense_units} (dropout 0.25) on {config.dataset} "
        f"({'all 54k' if config.train_limit is None else config.train_limit} training images, "
        f"6k validation, {config.test_limit or 10_000:,} test), SGD with Nesterov momentum 0.9 at "
        f"{config.learning_rate:g}, batch {config.batch_size}, {config.epochs} epochs, one arm "
        "with a constant rate and one with cosine decay to 0 (same seeds: same split, data order and "
        f"initial weights). Every {config.every_n_steps} steps the monitor takes the gradient of the "
        f"training loss on a fresh random batch of {config.probe_batch} training images (inference "
        "mode: no dropout noise), the 'individual gradient evaluations' of Fig. 8.1. The ratios compare "
        "the mean of those norms in the last epoch with the mean in the first, and with the mean in "
        "the third (past the fall of the first epochs); the rank correlation is taken from epoch 3 on.\n\n"
        "Literature: Goodfellow, Bengio & Courville (2016), *Deep Learning*, Fig. 8.1: for a "
        "convolutional network trained for object detection, the norm of the gradient increases "
        "throughout training (scatter of individual evaluations, one plotted per epoch, and their "
        "running mean) while the validation classification error falls: training does not arrive at "
        "a critical point. The book quotes no values for this figure; its text (Sec. 8.2.1) adds that "
        "in many cases the gradient norm does not shrink significantly while the curvature term "
        "gᵀHg grows by more than an order of magnitude. Their "
        "run is far longer than the CPU budget here; a rise over these epochs is the same "
        "phenomenon, its absence would not refute it for longer runs. Its other half does hold here: "
        "the norm does not go to 0 (the last epoch's mean norm in the table) while the validation "
        "error still falls, so these runs are not at a critical point either.")
    _figures(config, groups, report)


def _verdict(log_ratios):
    ci = stats.mean_ci(log_ratios)
    if not ci.has_ci:
        return "changes on one seed (no interval, no claim)"
    return "rises" if ci.low > 0 else "falls" if ci.high < 0 else "shows no change detected"


def _figures(config, groups, report):
    fig, axes = _report.figure(ncols=2, width=4.8, height=3.4)
    for i, schedule in enumerate(config.schedules):
        for j, r in enumerate(groups.get((schedule,), [])):
            epochs = np.asarray(r["steps"]) / r["steps_per_epoch"]
            if j == 0:
                axes[0].scatter(epochs, r["global_norm"], s=1, color=f"C{i}", alpha=0.15)
            axes[0].plot(epochs, plots.running_mean(r["global_norm"], 50), color=f"C{i}", lw=1,
                         label=SETTINGS[schedule] if j == 0 else None)
            axes[1].plot(np.arange(1, len(r["val_error"]) + 1), 100 * np.asarray(r["val_error"]),
                         color=f"C{i}", lw=1, label=SETTINGS[schedule] if j == 0 else None)
    axes[0].set(title="gradient norm (dots: seed 0; lines: running mean, every seed)", xlabel="epoch",
                ylabel="L2 norm of the minibatch gradient")
    axes[1].set(title="validation error", xlabel="epoch", ylabel="error, %")
    _report.legends(axes)
    report.save_figure(fig, "fig81", "Fig. 8.1 as measured here: per-step gradient norms (left) and "
                       "the validation error per epoch (right), every seed.")
