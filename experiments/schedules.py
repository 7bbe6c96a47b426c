"""Cyclical and one-cycle learning rates vs a constant rate: time to a target accuracy, and the
LR range test's suggestion against a constant-rate sweep (fast_cnn, Fashion-MNIST)."""

import dataclasses
import time
from typing import Annotated

import keras
import numpy as np
from keras_seminar.experiments import _report, _runner, stats
from keras_seminar.experiments._config import Count, Dataset, Fraction, Length, Positive, one_of
from keras_seminar.experiments._protocol import Experiment, register

from keras_seminar import lr_finder
from keras_seminar.errors import TrainingDiverged, UsageError
from keras_seminar.models import get_spec
from keras_seminar.schedules import CyclicalLearningRate
from keras_seminar.training import compile_model, recipe_for

__all__ = ["ARMS", "Config", "Schedules"]

ARMS = ("constant", "cyclical", "onecycle")


@dataclasses.dataclass
class Config:
    dataset: Dataset = "fashion_mnist"
    model: str = "fast_cnn"       # its recipe: Adam, batch 256, label smoothing 0.1
    model_options: dict = dataclasses.field(default_factory=dict)  # builder options (smoke: a tiny net)
    arms: tuple[one_of(*ARMS), ...] = ARMS
    budget_epochs: Count = 5        # every arm's fixed budget; one-cycle and CLR are laid over it
    target: Fraction = 0.91          # validation accuracy whose first epoch counts as "reached"
    peak_lr: Positive = 8e-3         # one-cycle: the recipe's peak (starts at peak/10, cosine to 0)
    # Triangular CLR between one-cycle's start and peak.
    clr_bounds: Annotated[tuple[Positive, ...], Length(2)] = (8e-4, 8e-3)
    clr_cycles: Count = 2           # whole cycles in the budget: the run ends at the low bound (Smith)
    # Constant arm: each rate trains on seed 0 for the whole budget; the best final validation
    # accuracy picks the rate all seeds use (its seed-0 run is that sweep run).
    sweep_lrs: tuple[Positive, ...] = (1e-3, 2e-3, 4e-3, 8e-3)
    range_min_lr: Positive = 1e-5    # LR range test (lr_finder.lr_range_test), one per seed,
    range_max_lr: Positive = 1.0     # on a fresh net compiled with the recipe (Adam)
    range_steps: Count = 200
    train_limit: Count | None = None # None: all 54k training images (6k are validation)
    test_limit: Count | None = None  # None: all 10k test images
    seeds: Count = 5


class _Clock(keras.callbacks.Callback):
    """Seconds since the fit began at each epoch's end (validation included), and the rate the
    optimizer used every `every` steps; with a `schedule`, it first sets the rate to
    `schedule(step)` before every step. The recipes' schedules are "constant", "cosine" and
    "onecycle"; a cyclical rate enters the one fit path as a constant-rate recipe whose rate this
    callback moves (Keras's `LearningRateScheduler` does the same per epoch)."""

    def __init__(self, every, schedule=None):
        super().__init__()
        self.every, self.schedule = every, schedule

    def on_train_begin(self, logs=None):
        self.start, self.seconds, self.lrs, self.step = time.perf_counter(), [], [], 0

    def on_train_batch_begin(self, batch, logs=None):
        optimizer = self.model.optimizer
        if self.schedule is not None:
            optimizer.learning_rate = float(keras.ops.convert_to_numpy(self.schedule(self.step)))
        if self.step % self.every == 0:
            self.lrs.append([self.step, float(keras.ops.convert_to_numpy(optimizer.learning_rate))])
        self.step += 1

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def _train(config, data, arm, seed, lr=None):
    steps = -(-len(data.y_train) // recipe_for(config.model).batch_size)
    schedule, recipe = None, {"schedule": "constant", "learning_rate": lr}
    if arm == "cyclical":
        half = max(1, round(config.budget_epochs * steps / (2 * config.clr_cycles)))
        schedule = CyclicalLearningRate(*config.clr_bounds, step_size=half)
        recipe["learning_rate"] = config.clr_bounds[0]
    elif arm == "onecycle":
        recipe = {"schedule": "onecycle", "learning_rate": config.peak_lr}
    clock = _Clock(max(1, steps // 20), schedule)
    model = _runner.build(seed, config.model, **config.model_options)
    # One step per call: the clock (and the cyclical rate it sets) acts per step.
    history = _runner.fit(model, data, seed, callbacks=[clock], model_name=config.model,
                          epochs=config.budget_epochs, steps_per_execution=1, **recipe)
    reached = [i for i, a in enumerate(history["val_accuracy"]) if a >= config.target]
    return {"test_accuracy": _runner.accuracy(model, data.x_test, data.y_test),
            "val_accuracy": history["val_accuracy"][-1],
            "epochs_to_target": reached[0] + 1 if reached else None,
            "seconds_to_target": clock.seconds[reached[0]] if reached else None,
            "seconds": clock.seconds[-1], "epoch_seconds": clock.seconds, "lr_trace": clock.lrs,
            "history": history}


def _range_test(config, data, seed):
    recipe = recipe_for(config.model)
    model = _runner.build(seed, config.model, **config.model_options)
    compile_model(model, recipe, steps_per_epoch=-(-len(data.y_train) // recipe.batch_size))
    result = lr_finder.lr_range_test(model, data.x_train, data.y_train, config.range_min_lr,
                                     config.range_max_lr, steps=config.range_steps,
                                     batch_size=recipe.batch_size, seed=seed)
    return {"suggested_lr": result["suggested_lr"], "min_loss_lr_over_10": result["min_loss_lr_over_10"],
            "lrs": result["lrs"].tolist(), "smoothed": result["smoothed"].tolist()}


def _first_best(sweep):
    """The rate of the sweep run (seed 0) with the best final validation accuracy, the first of equals."""
    return max(sweep, key=lambda r: r["val_accuracy"])["arm"]["lr"] if sweep else None


@register
class Schedules(Experiment):
    name = "schedules"
    title = "Learning-rate schedules: constant, cyclical, one-cycle"
    question = ("On the default model (fast_cnn, Fashion-MNIST), how much sooner do a cyclical learning rate (Smith "
                "2017, triangular) and the one-cycle policy reach a target validation accuracy than a constant rate, "
                "and how accurate are they after the same short budget? Does the LR range test suggest the rate a "
                "constant-rate sweep finds best? (toolbox measured: keras_seminar.schedules, the recipes' onecycle, "
                "keras_seminar.lr_finder)")
    config = Config()
    smoke = dict(model_options={"stackwise_num_filters": (4,), "dense_units": 8}, arms=("constant", "cyclical"),
                 budget_epochs=2, target=0.3, clr_cycles=1, sweep_lrs=(8e-3,), range_steps=8, train_limit=512,
                 test_limit=128, seeds=2)
    headline = ("test_accuracy", "suggested_lr")

    def check(self, config):
        get_spec(config.model)
        if not config.clr_bounds[0] < config.clr_bounds[1] or not config.range_min_lr < config.range_max_lr:
            raise UsageError("Expected clr_bounds and range_min_lr..range_max_lr to be rising ranges. Received: "
                             f"clr_bounds={config.clr_bounds!r}, range_min_lr={config.range_min_lr!r}, "
                             f"range_max_lr={config.range_max_lr!r}")

    def plan(self, config, seeds):
        """The constant rate's sweep on seed 0 first (its best rate names every seed's constant
        arm, whose seed-0 run is that sweep run), then per seed the range test and the arms."""
        if "constant" in config.arms:
            for lr in config.sweep_lrs:
                yield {"arm": "constant", "lr": lr}, 0
        for seed in seeds:
            yield {"phase": "range_test"}, seed
            for arm in config.arms:
                yield ({"arm": arm, "lr": self._best_lr(config)} if arm == "constant" else {"arm": arm}), seed

    def total(self, config, seeds):
        return len(seeds) * (1 + len(config.arms)) + ("constant" in config.arms) * (len(config.sweep_lrs) - 1)

    def _best_lr(self, config):
        """The swept constant rate with the best final validation accuracy (the first best)."""
        if "constant" not in config.arms:
            return None
        return _first_best([self.runs.get({"arm": "constant", "lr": lr}, 0) for lr in config.sweep_lrs])

    def run_arm(self, config, arm, seed, data):
        if arm.get("phase") == "range_test":
            return _range_test(config, data, seed)
        try:
            return _train(config, data, arm["arm"], seed, arm.get("lr"))
        except TrainingDiverged:
            if "lr" not in arm or seed != 0:
                raise
            return {"diverged": True, "val_accuracy": 0.0}  # a sweep rate too high to train

    def summary(self, config):
        return {"best_constant_lr": self._best_lr(config), "recipe": dataclasses.asdict(recipe_for(config.model))}

    def render(self, config, results, report):
        runs = _report.group_runs(results, ("arm", "lr"), phase=None)
        sweep = [r for lr in config.sweep_lrs for r in runs.get(("constant", lr), []) if r["seed"] == 0]
        best, target = _first_best(sweep), config.target
        main = {arm: recs for (arm, lr), recs in runs.items()  # the constant arm: the best rate's runs
                if arm != "constant" or (lr == best and len(sweep) == len(config.sweep_lrs))}
        arm_label = {"constant": f"constant {best:g}" if best else "constant", "cyclical":
                     f"cyclical (triangular {config.clr_bounds[0]:g}-{config.clr_bounds[1]:g}, "
                     f"{config.clr_cycles} cycle(s))", "onecycle": f"one-cycle (peak {config.peak_lr:g})"}
        rows = [(arm_label[arm], *(_report.ci(recs, key, scale=100) for key in ("test_accuracy", "val_accuracy")),
                 _time_cell(recs, "epochs_to_target", 2), _time_cell(recs, "seconds_to_target", 1),
                 _report.ci(recs, "seconds", 1)) for arm in config.arms if (recs := main.get(arm))]
        report.table(["arm", f"test accuracy after {config.budget_epochs} epochs, %", "final validation accuracy, %",
                      f"epochs to {100 * target:g}% validation", f"seconds to {100 * target:g}% validation",
                      "training seconds (whole budget)"], rows, title=_report.CI_TITLE)
        diffs = []
        for a, b in (("cyclical", "constant"), ("onecycle", "constant"), ("onecycle", "cyclical")):
            recs, base = main.get(a, []), main.get(b, [])
            cell = report.compare(recs, base, "test_accuracy", arm_label[a], arm_label[b],
                                  f"Test accuracy after {config.budget_epochs} epochs: ")
            if cell is None:
                continue
            x, y = _report.paired(recs, base, "epochs_to_target")
            both = [(p, q) for p, q in zip(x, y) if None not in (p, q)]
            if len(both) == len(x):  # every seed of both arms reached the target: a claim
                epochs = report.compare(recs, base, "epochs_to_target", arm_label[a], arm_label[b],
                                        f"Epochs to {100 * target:g}% validation accuracy: ", scale=1, unit="")
            else:
                epochs = (f"{stats.paired_difference(*zip(*both)).format(2)} (the {len(both)} seeds where both "
                          "reached it)" if both else "no seed where both reached it")
            diffs.append([f"{a} - {b}", cell, epochs])
        report.table(["arms", "test accuracy difference, points", f"epochs-to-{100 * target:g}% difference"], diffs,
                     title=_report.PAIRED_TITLE)
        tests = _report.group_runs(results, "phase").get("range_test", [])
        recipe = results.get("recipe") or dataclasses.asdict(recipe_for(config.model))  # partial: today's
        _range_text(config, recipe, best, sweep, tests, report)
        _figures(config, main, sweep, tests, arm_label, report)


def _time_cell(recs, key, digits):
    done = [r[key] for r in recs if r[key] is not None]
    if not done:
        return f"not reached (0/{len(recs)})"
    est = stats.mean_ci(done).format(digits)
    return est if len(done) == len(recs) else f"{est} ({len(done)}/{len(recs)} reached; the rest not within the budget)"


def _geometric(values):
    """A mean ± CI of log10 values, as `10^mean [10^low, 10^high]`."""
    est = stats.mean_ci(np.log10(values))
    if not est.has_ci:
        return f"{10 ** est.mean:.2g} (n=1, no CI)"
    return f"{10 ** est.mean:.2g} (95% CI {10 ** est.low:.2g} to {10 ** est.high:.2g}, n={est.n})"


def _range_text(config, recipe, best, sweep, tests, report):
    report.table(["constant rate", "final validation accuracy, % (seed 0)", "test accuracy, % (seed 0)", ""],
                 [(f"{r['arm']['lr']:g}", "diverged" if r.get("diverged") else f"{100 * r['val_accuracy']:.2f}",
                   "" if r.get("diverged") else f"{100 * r['test_accuracy']:.2f}",
                   "**used**" if r["arm"]["lr"] == best else "") for r in sweep],
                 title=f"Constant-rate sweep (seed 0, {config.budget_epochs} epochs each; the best is used)")
    if tests:
        steep, low = [r["suggested_lr"] for r in tests], [r["min_loss_lr_over_10"] for r in tests]
        each = lambda values: ", ".join(f"{v:.2g}" for v in values)  # noqa: E731
        report.table(["LR range test", "suggested rate (geometric mean over seeds)", "per seed"],
                     [("steepest descent of the smoothed loss (`suggested_lr`)", _geometric(steep), each(steep)),
                      ("loss minimum / 10 (`min_loss_lr_over_10`)", _geometric(low), each(low)),
                      ("best rate of the constant sweep (seed 0)", f"{best:g}" if best else "not run", "")],
                     title="LR range test vs the constant-rate sweep")
        sweep_best = f"{best:g}" if best else "not run"
        report.finding(f"LR range test ({config.range_steps} steps, {config.range_min_lr:g} to "
                       f"{config.range_max_lr:g}, Adam): steepest-descent suggestion {_geometric(steep)}; "
                       f"loss minimum / 10: {_geometric(low)}; best constant rate of the sweep over "
                       f"{', '.join(f'{lr:g}' for lr in config.sweep_lrs)}: {sweep_best}.")
    report.text(
        f"Every run: the zoo `{config.model}` with its recipe ({recipe['optimizer']}, batch {recipe['batch_size']}, "
        f"label smoothing {recipe['label_smoothing']:g}), {config.budget_epochs} epochs, only the learning rate "
        "differs. One-cycle is the recipes' `onecycle` (linear warm-up from peak/10 over the first "
        f"{100 * recipe['warmup']:g}% of steps, then cosine decay to 0). The cyclical rate is "
        "`keras_seminar.schedules.CyclicalLearningRate` (triangular), set before every step by a callback on a "
        "constant-rate recipe (the recipes have no cyclical schedule); its half cycle is "
        f"{config.budget_epochs / (2 * config.clr_cycles):g} epochs, so the budget ends at the low bound, as Smith "
        "(2017) advises. Both schedules are laid over the budget, so their time to the target depends on it; the "
        "constant rate's does not. Seconds are wall-clock from the start of `fit` (per-epoch validation included) on "
        "a shared 2-core CPU: compare them within this report, not across machines. The constant arm's rate was "
        "chosen on seed 0's validation accuracy, and seed 0's run is that sweep run (a small selection in its "
        "favour).\n\n"
        "Literature: Smith (2017, WACV, 'Cyclical Learning Rates for Training Neural Networks') reports, on CIFAR-10 "
        "with Caffe's CIFAR-10 net, the standard fixed rate's 81.4% after 70,000 iterations reached by the "
        "triangular2 CLR after 25,000 (his Table 1), and proposes the LR range test for the bounds. With Adam, the "
        "setting closest to ours, CLR did not help there: 79.8% after 25,000 and 81.1% after 70,000 iterations vs "
        "81.4% for the fixed rate (his Table 3). He advises half cycles of 2-10 epochs, at least 3 cycles, and "
        f"stopping at the end of a cycle; ours are {config.budget_epochs / (2 * config.clr_cycles):g} epochs "
        f"({config.clr_cycles} cycles in the {config.budget_epochs}-epoch budget). Smith & Topin (2019, "
        "'Super-Convergence') propose the one-cycle policy. Neither reports Fashion-MNIST; the numbers above are "
        "ours.")


def _figures(config, main, sweep, tests, arm_label, report):
    fig, axes = _report.figure(ncols=3, width=4.2, height=3.3)
    series = [(arm_label[arm], main.get(arm, [])) for arm in config.arms]
    for ax, x in ((axes[0], None), (axes[1], "epoch_seconds")):
        _report.curves(ax, series, lambda r: 100 * np.asarray(r["history"]["val_accuracy"]), x, "o-",
                       alpha=0.6, lw=1, ms=2)
    trace = [(label, recs[:1]) for label, recs in series]  # seed 0's (step, rate) pairs
    _report.curves(axes[2], trace, lambda r: np.asarray(r["lr_trace"])[:, 1],
                   lambda r: np.asarray(r["lr_trace"])[:, 0])
    for ax, xlabel in ((axes[0], "epoch"), (axes[1], "seconds (shared 2-core CPU)")):
        ax.axhline(100 * config.target, color="grey", ls="--", lw=1)
        ax.set(xlabel=xlabel, ylabel="validation accuracy, %", title="validation accuracy (dashed: target)")
    axes[2].set(xlabel="step", ylabel="learning rate", title="the rate each arm used (seed 0)")
    _report.legends(axes)
    report.save_figure(fig, "curves", "Validation accuracy per epoch and per second of every run, "
                       "and the learning rate of each arm.")
    if not tests:
        return
    fig, axes = _report.figure(ncols=2, width=4.4, height=3.3)
    for j, r in enumerate(tests):
        axes[0].plot(r["lrs"], r["smoothed"], color="C0", alpha=0.5, lw=1, label="smoothed loss" if j == 0 else None)
        _suggestions(axes[0], r, labelled=j == 0)
    axes[0].set(xscale="log", xlabel="learning rate", ylabel="training loss (smoothed)",
                title="LR range test, one per seed")
    done = [r for r in sweep if not r.get("diverged")]
    axes[1].plot([r["arm"]["lr"] for r in done], [100 * r["val_accuracy"] for r in done], "o-", color="C2")
    for r in tests:
        _suggestions(axes[1], r)
    axes[1].set(xscale="log", xlabel="constant learning rate", ylabel="final validation accuracy, %",
                title="constant-rate sweep (seed 0)")
    axes[0].legend(fontsize=7)
    axes[0].set_xlim(config.range_min_lr, config.range_max_lr)
    report.save_figure(fig, "lr_range", "LR range test per seed (solid lines: suggested_lr, the "
                       "steepest descent of the smoothed loss; dashed: the loss minimum's rate / 10) "
                       "against the constant-rate sweep.")


def _suggestions(ax, test, labelled=False):
    """A range test's two suggested rates as vertical lines (solid: steepest descent; dashed: minimum / 10)."""
    for key, color, ls in (("suggested_lr", "C1", "-"), ("min_loss_lr_over_10", "C3", "--")):
        ax.axvline(test[key], color=color, alpha=0.5, lw=1, ls=ls, label=key if labelled else None)
