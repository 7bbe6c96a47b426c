"""Goodfellow et al., Deep Learning, Fig. 8.1: does the gradient norm grow while validation error falls?"""

import dataclasses
from typing import Annotated

import numpy as np
from keras_seminar.experiments import _report, _runner, stats
from keras_seminar.experiments._config import Count, Dataset, Length, Positive, one_of
from keras_seminar.experiments._protocol import Experiment, register

from keras_seminar.callbacks import GradientNormMonitor, plots

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
    # A fixed budget (Fig. 8.1 is about a long run, not early stopping): 6.3k steps, ~40 min for 10 runs on 2 cores.
    epochs: Count = 15
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
        model = _runner.build(seed, "cnn", filters=config.filters, dense_units=config.dense_units, dropout=0.25)
        monitor = GradientNormMonitor(data.x_train, data.y_train, every_n_steps=config.every_n_steps,
                                      batch_size=config.probe_batch, seed=seed)
        history = _runner.fit(model, data, seed, callbacks=[monitor], model_name="cnn", epochs=config.epochs,
                              steps_per_execution=config.every_n_steps, batch_size=config.batch_size,
                              learning_rate=config.learning_rate, optimizer="sgd", schedule=arm["schedule"])
        return dict(**{k: monitor.history[k] for k in ("steps", "global_norm", "layer_norms", "val_error")},
                    steps_per_epoch=int(np.ceil(len(data.y_train) / config.batch_size)),
                    test_error=1.0 - _runner.accuracy(model, data.x_test, data.y_test), history=history)

    def render(self, config, results, report):
        groups = _report.group_runs(results, "schedule")
        arms, rows = [(s, groups[s]) for s in config.schedules if groups.get(s)], []
        for schedule, recs in arms:
            ratios, settled, rhos = zip(*(trend(r) for r in recs))
            errors = [_report.ci(recs, v, scale=100) for v in
                      (lambda r: r["val_error"][0], lambda r: r["val_error"][-1], "test_error")]
            rows.append((SETTINGS[schedule], len(recs), _report.ci(recs, _last_norm),
                         *(stats.mean_ci(v).format(2) for v in (ratios, settled, rhos)), *errors))
            report.finding(f"{SETTINGS[schedule]}: the gradient norm {_verdict(ratios)} from the first to the "
                           f"last epoch (log2 ratio {stats.mean_ci(ratios).format(2)}) and {_verdict(settled)} "
                           f"from the third to the last (log2 ratio {stats.mean_ci(settled).format(2)}), while "
                           f"the validation error goes from {errors[0]} % after epoch 1 to {errors[1]} % after "
                           "the last.")
        report.table(["setting", "n", "mean norm, last epoch", "log2 norm ratio, last / first epoch",
                      "log2 norm ratio, last / third epoch", "Spearman(step, norm) after epoch 2",
                      "val error, epoch 1, %", "val error, last epoch, %", "test error, %"], rows,
                     title=_report.CI_TITLE)
        if len(arms) == 2:
            (a, recs), (b, base) = arms
            report.compare(recs, base, lambda r: trend(r)[1], SETTINGS[a], SETTINGS[b],
                           "log2 norm ratio, last / third epoch, paired by seed: ", scale=1, unit="")
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
            "Literature: Goodfellow, Bengio & Courville (2016), *Deep Learning*, Fig. 8.1: for a convolutional "
            "network trained for object detection, the norm of the gradient increases throughout training (scatter "
            "of individual evaluations, one plotted per epoch, and their running mean) while the validation "
            "classification error falls: training does not arrive at a critical point. The book quotes no values for "
            "this figure; its text (Sec. 8.2.1) adds that in many cases the gradient norm does not shrink "
            "significantly while the curvature term gᵀHg grows by more than an order of magnitude. Their run is far "
            "longer than the CPU budget here; a rise over these epochs is the same phenomenon, its absence would not "
            "refute it for longer runs. Its other half does hold here: the norm does not go to 0 (the last epoch's "
            "mean norm in the table) while the validation error still falls, so these runs are not at a critical "
            "point either.")
        _figures(config, groups, report)


def trend(record, settle=2):
    """`(log2 last/first, log2 last/after settling, spearman after settling)`: the mean norm of
    the last epoch over that of the first and over that of epoch `settle + 1` (past the early
    transient), and the rank correlation of norm and step after the first `settle` epochs."""
    steps, norms = np.asarray(record["steps"]), np.asarray(record["global_norm"])
    epoch = (steps - 1) // record["steps_per_epoch"]
    settled = min(settle, epoch.max())
    later = epoch >= settled
    later = later if later.sum() >= 3 else np.ones_like(later)  # a smoke-sized run: the whole of it
    last = _last_norm(record)
    return (float(np.log2(last / norms[epoch == 0].mean())),
            float(np.log2(last / norms[epoch == settled].mean())), _spearman(steps[later], norms[later]))


def _last_norm(record):
    """The mean gradient norm of a run's last epoch."""
    epoch = (np.asarray(record["steps"]) - 1) // record["steps_per_epoch"]
    return float(np.asarray(record["global_norm"])[epoch == epoch.max()].mean())


def _spearman(a, b):
    ra, rb = (np.argsort(np.argsort(v)).astype(float) for v in (a, b))
    if len(ra) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0  # a constant series has no order to correlate
    return float(np.corrcoef(ra, rb)[0, 1])


def _verdict(log_ratios):
    ci = stats.mean_ci(log_ratios)
    if not ci.has_ci:
        return "changes on one seed (no interval, no claim)"
    return "rises" if ci.low > 0 else "falls" if ci.high < 0 else "shows no change detected"


def _figures(config, groups, report):
    fig, axes = _report.figure(ncols=2, width=4.8, height=3.4)
    series = [(SETTINGS[s], groups.get(s, [])) for s in config.schedules]
    for i, (_, recs) in enumerate(series):  # seed 0's dots under every seed's running mean
        if recs:
            axes[0].scatter(_epochs(recs[0]), recs[0]["global_norm"], s=1, color=f"C{i}", alpha=0.15)
    _report.curves(axes[0], series, lambda r: plots.running_mean(r["global_norm"], 50), x=_epochs, lw=1)
    _report.curves(axes[1], series, lambda r: 100 * np.asarray(r["val_error"]), lw=1)
    axes[0].set(title="gradient norm (dots: seed 0; lines: running mean, every seed)", xlabel="epoch",
                ylabel="L2 norm of the minibatch gradient")
    axes[1].set(title="validation error", xlabel="epoch", ylabel="error, %")
    _report.legends(axes)
    report.save_figure(fig, "fig81", "Fig. 8.1 as measured here: per-step gradient norms (left) and "
                       "the validation error per epoch (right), every seed.")


def _epochs(record):
    return np.asarray(record["steps"]) / record["steps_per_epoch"]
