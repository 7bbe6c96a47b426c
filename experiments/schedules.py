"""Cyclical and one-cycle learning rates vs a constant rate: time to a target accuracy, and the
LR range test's suggestion against a constant-rate sweep (fast_cnn, Fashion-MNIST)."""

import dataclasses
import time

import keras
import numpy as np

from experiments import _report, _runner, stats
from keras_seminar import lr_finder
from keras_seminar.errors import TrainingDiverged
from keras_seminar.models import build_model
from keras_seminar.schedules import CyclicalLearningRate
from keras_seminar.training import compile_model, recipe_for

TITLE = "Learning-rate schedules: constant, cyclical, one-cycle"
QUESTION = ("On the default model (fast_cnn, Fashion-MNIST), how much sooner do a cyclical "
            "learning rate (Smith 2017, triangular) and the one-cycle policy reach a target "
            "validation accuracy than a constant rate, and how accurate are they after the same "
            "short budget? Does the LR range test suggest the rate a constant-rate sweep finds best? "
            "(toolbox measured: keras_seminar.schedules, the recipes' onecycle, keras_seminar.lr_finder)")
ARMS = ("constant", "cyclical", "onecycle")


@dataclasses.dataclass
class Config:
    dataset: str = "fashion_mnist"
    model: str = "fast_cnn"        # its recipe: Adam, batch 256, label smoothing 0.1
    model_options: dict = dataclasses.field(default_factory=dict)  # builder options (smoke: a tiny net)
    arms: tuple = ARMS
    budget_epochs: int = 5         # every arm's fixed budget; one-cycle and CLR are laid over it
    target: float = 0.91           # validation accuracy whose first epoch counts as "reached"
    peak_lr: float = 8e-3          # one-cycle: the recipe's peak (starts at peak/10, cosine to 0)
    clr_bounds: tuple = (8e-4, 8e-3)  # triangular CLR between one-cycle's start and peak
    clr_cycles: int = 2            # whole cycles in the budget: the run ends at the low bound (Smith)
    # Constant arm: each rate trains on seed 0 for the whole budget; the best final validation
    # accuracy picks the rate all seeds use (its seed-0 run is that sweep run).
    sweep_lrs: tuple = (1e-3, 2e-3, 4e-3, 8e-3)
    range_min_lr: float = 1e-5     # LR range test (lr_finder.lr_range_test), one per seed,
    range_max_lr: float = 1.0      # on a fresh net compiled with the recipe (Adam)
    range_steps: int = 200
    train_limit: int | None = None  # None: all 54k training images (6k are validation)
    test_limit: int | None = None   # None: all 10k test images
    seeds: int = 5


CONFIG = Config()
SMOKE = Config(model_options={"stackwise_num_filters": (4,), "dense_units": 8},
               arms=("constant", "cyclical"), budget_epochs=2, target=0.3, clr_cycles=1,
               sweep_lrs=(8e-3,), range_steps=8, train_limit=512, test_limit=128, seeds=2)


class _StepSchedule(keras.callbacks.Callback):
    """Sets the optimizer's rate from `schedule(step)` before every step.

    The recipes' schedules are "constant", "cosine" and "onecycle"; a cyclical rate enters the
    one fit path as a constant-rate recipe whose rate this callback moves (Keras's
    `LearningRateScheduler` does the same per epoch).
    """

    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule

    def on_train_begin(self, logs=None):
        self.step = 0

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = float(keras.ops.convert_to_numpy(self.schedule(self.step)))
        self.step += 1


class _Clock(keras.callbacks.Callback):
    """Seconds since the fit began at each epoch's end (validation included), and the rate
    the optimizer used every `every` steps."""

    def __init__(self, every):
        super().__init__()
        self.every = every

    def on_train_begin(self, logs=None):
        self.start, self.seconds, self.lrs, self.step = time.perf_counter(), [], [], 0

    def on_train_batch_begin(self, batch, logs=None):
        if self.step % self.every == 0:
            self.lrs.append([self.step, float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))])
        self.step += 1

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def _build(config, seed):
    keras.utils.set_random_seed(seed)
    return build_model(config.model, **config.model_options)


def _train(config, data, arm, seed, lr=None):
    steps = -(-len(data.y_train) // recipe_for(config.model).batch_size)
    callbacks = []
    if arm == "cyclical":
        low, high = config.clr_bounds
        half = max(1, round(config.budget_epochs * steps / (2 * config.clr_cycles)))
        callbacks.append(_StepSchedule(CyclicalLearningRate(low, high, step_size=half)))
        recipe = {"schedule": "constant", "learning_rate": low}
    elif arm == "onecycle":
        recipe = {"schedule": "onecycle", "learning_rate": config.peak_lr}
    else:
        recipe = {"schedule": "constant", "learning_rate": lr}
    clock = _Clock(every=max(1, steps // 20))
    model = _build(config, seed)
    # One step per call: the clock and the cyclical schedule's callback act per step.
    history = _runner.fit(model, data, seed, callbacks=[*callbacks, clock], model_name=config.model,
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
    model = _build(config, seed)
    compile_model(model, recipe, steps_per_epoch=-(-len(data.y_train) // recipe.batch_size))
    result = lr_finder.lr_range_test(model, data.x_train, data.y_train, config.range_min_lr,
                                     config.range_max_lr, steps=config.range_steps,
                                     batch_size=recipe.batch_size, seed=seed)
    return {"suggested_lr": result["suggested_lr"], "min_loss_lr_over_10": result["min_loss_lr_over_10"],
            "lrs": result["lrs"].tolist(), "smoothed": result["smoothed"].tolist()}


def _sweep(config, data, runs):
    """The constant rate with the best final validation accuracy on seed 0."""
    best = None
    for lr in config.sweep_lrs:
        key = {"arm": "constant", "lr": lr}
        rec = runs.get(key, 0)
        if rec is None:
            try:
                rec = runs.add(key, 0, **_train(config, data, "constant", 0, lr))
            except TrainingDiverged:
                rec = runs.add(key, 0, diverged=True, val_accuracy=0.0)
        if best is None or rec["val_accuracy"] > best[0]:
            best = (rec["val_accuracy"], lr)
    return best[1]


def run(config, seeds, runs):
    best_lr = _sweep(config, _runner.load(config.dataset, 0, config.train_limit, test_limit=config.test_limit),
                     runs) if "constant" in config.arms else None
    for seed in seeds:
        data = _runner.load(config.dataset, seed, config.train_limit, test_limit=config.test_limit)
        if not runs.get({"phase": "range_test"}, seed):
            runs.add({"phase": "range_test"}, seed, **_range_test(config, data, seed))
        for arm in config.arms:
            key = {"arm": arm, "lr": best_lr} if arm == "constant" else {"arm": arm}
            if not runs.get(key, seed):
                runs.add(key, seed, **_train(config, data, arm, seed, best_lr))
    return {"best_constant_lr": best_lr, "recipe": dataclasses.asdict(recipe_for(config.model))}


def _groups(results, sweep_lrs):
    """`(best constant rate, main runs by arm, sweep runs, range tests)`, each sorted by seed;
    the best rate is read from the sweep runs, as `_sweep` picks it (a partial run has no summary)."""
    runs = sorted(results["runs"], key=lambda r: r["seed"])
    sweep = sorted((r for r in runs if r["arm"].get("arm") == "constant" and r["seed"] == 0),
                   key=lambda r: sweep_lrs.index(r["arm"]["lr"]))
    best = max(sweep, key=lambda r: r["val_accuracy"])["arm"]["lr"] if sweep else None  # the first best
    main, tests = {}, []
    for r in runs:
        arm = r["arm"]
        if arm.get("phase") == "range_test":
            tests.append(r)
        elif arm["arm"] != "constant" or (arm["lr"] == best and len(sweep) == len(sweep_lrs)):
            main.setdefault(arm["arm"], []).append(r)
    return best, main, sweep, tests


def _pct(values):
    return stats.mean_ci(values).format(2, 100)


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


def render(results, report):
    config = results["config"]
    best, main, sweep, tests = _groups(results, config["sweep_lrs"])
    target = config["target"]
    arm_label = {"constant": f"constant {best:g}" if best else "constant", "cyclical":
                 f"cyclical (triangular {config['clr_bounds'][0]:g}-{config['clr_bounds'][1]:g}, "
                 f"{config['clr_cycles']} cycle(s))", "onecycle": f"one-cycle (peak {config['peak_lr']:g})"}
    rows = [(arm_label[arm], _pct([r["test_accuracy"] for r in recs]), _pct([r["val_accuracy"] for r in recs]),
             _time_cell(recs, "epochs_to_target", 2), _time_cell(recs, "seconds_to_target", 1),
             stats.mean_ci([r["seconds"] for r in recs]).format(1))
            for arm in config["arms"] if (recs := main.get(arm))]
    report.table(["arm", f"test accuracy after {config['budget_epochs']} epochs, %", "final validation accuracy, %",
                  f"epochs to {100 * target:g}% validation", f"seconds to {100 * target:g}% validation",
                  "training seconds (whole budget)"], rows,
                 title="Mean ± 95% CI over seeds (Student t, sample std)")
    diffs = []
    for a, b in (("cyclical", "constant"), ("onecycle", "constant"), ("onecycle", "cyclical")):
        ref = {r["seed"]: r for r in main.get(b, [])}
        pairs = [(r, ref[r["seed"]]) for r in main.get(a, []) if r["seed"] in ref]
        if not pairs:
            continue
        x, y = ([p[i]["test_accuracy"] for p in pairs] for i in (0, 1))
        report.finding(f"Test accuracy after {config['budget_epochs']} epochs: " + stats.claim(
            arm_label[a], x, arm_label[b], y, digits=2, scale=100, unit=" points"))
        row = [f"{a} - {b}", stats.paired_difference(x, y).format(2, 100)]
        both = [(p[0]["epochs_to_target"], p[1]["epochs_to_target"]) for p in pairs
                if p[0]["epochs_to_target"] is not None and p[1]["epochs_to_target"] is not None]
        if len(both) == len(pairs):
            report.finding(f"Epochs to {100 * target:g}% validation accuracy: " + stats.claim(
                arm_label[a], [p[0] for p in both], arm_label[b], [p[1] for p in both], digits=2))
        if not both:
            row.append("no seed where both reached it")
        else:
            some = "" if len(both) == len(pairs) else f" (the {len(both)} seeds where both reached it)"
            row.append(stats.paired_difference(*zip(*both)).format(2) + some)
        diffs.append(row)
    report.table(["arms", "test accuracy difference, points", f"epochs-to-{100 * target:g}% difference"], diffs,
                 title="Paired differences (same seed: same split, data order and initial weights)")
    recipe = results.get("recipe") or dataclasses.asdict(recipe_for(config["model"]))  # partial: today's
    _range_text(config, recipe, best, sweep, tests, report)
    _figures(config, main, sweep, tests, arm_label, report)


def _range_text(config, recipe, best, sweep, tests, report):
    report.table(["constant rate", "final validation accuracy, % (seed 0)", "test accuracy, % (seed 0)", ""],
                 [(f"{r['arm']['lr']:g}", "diverged" if r.get("diverged") else f"{100 * r['val_accuracy']:.2f}",
                   "" if r.get("diverged") else f"{100 * r['test_accuracy']:.2f}",
                   "**used**" if r["arm"]["lr"] == best else "") for r in sweep],
                 title=f"Constant-rate sweep (seed 0, {config['budget_epochs']} epochs each; the best is used)")
    if tests:
        steep, low = [r["suggested_lr"] for r in tests], [r["min_loss_lr_over_10"] for r in tests]
        each = lambda values: ", ".join(f"{v:.2g}" for v in values)  # noqa: E731
        report.table(["LR range test", "suggested rate (geometric mean over seeds)", "per seed"],
                     [("steepest descent of the smoothed loss (`suggested_lr`)", _geometric(steep), each(steep)),
                      ("loss minimum / 10 (`min_loss_lr_over_10`)", _geometric(low), each(low)),
                      ("best rate of the constant sweep (seed 0)", f"{best:g}" if best else "not run", "")],
                     title="LR range test vs the constant-rate sweep")
        sweep_best = f"{best:g}" if best else "not run"
        report.finding(f"LR range test ({config['range_steps']} steps, {config['range_min_lr']:g} to "
                       f"{config['range_max_lr']:g}, Adam): steepest-descent suggestion {_geometric(steep)}; "
                       f"loss minimum / 10: {_geometric(low)}; best constant rate of the sweep over "
                       f"{', '.join(f'{lr:g}' for lr in config['sweep_lrs'])}: {sweep_best}.")
    report.text(
        f"Every run: the zoo `{config['model']}` with its recipe ({recipe['optimizer']}, batch "
        f"{recipe['batch_size']}, label smoothing {recipe['label_smoothing']:g}), "
        f"{config['budget_epochs']} epochs, only the learning rate differs. One-cycle is the "
        "recipes' `onecycle` (linear warm-up from peak/10 over the first "
        f"{100 * recipe['warmup']:g}% of steps, then cosine decay to 0). The cyclical rate is "
        "`keras_seminar.schedules.CyclicalLearningRate` (triangular), set before every step by a "
        "callback on a constant-rate recipe (the recipes have no cyclical schedule); its half cycle "
        f"is {config['budget_epochs'] / (2 * config['clr_cycles']):g} epochs, so the budget ends at "
        "the low bound, as Smith (2017) advises. Both schedules are laid over the budget, so their "
        "time to the target depends on it; the constant rate's does not. Seconds are wall-clock "
        "from the start of `fit` (per-epoch validation included) on a shared 2-core CPU: compare "
        "them within this report, not across machines. The constant arm's rate was chosen on seed "
        "0's validation accuracy, and seed 0's run is that sweep run (a small selection in its "
        "favour).\n\n"
        "Literature: Smith (2017, WACV, 'Cyclical Learning Rates for Training Neural Networks') "
        "reports CIFAR-10 accuracies reached in fewer iterations with a triangular CLR than with a "
        "tuned fixed rate, and proposes the LR range test for the bounds; Smith & Topin (2019, "
        "'Super-Convergence') the one-cycle policy. Neither reports Fashion-MNIST; the numbers "
        "above are ours.")


def _figures(config, main, sweep, tests, arm_label, report):
    fig, axes = _report.figure(ncols=3, width=4.2, height=3.3)
    for i, arm in enumerate(config["arms"]):
        for j, r in enumerate(main.get(arm, [])):
            acc = 100 * np.asarray(r["history"]["val_accuracy"])
            label = arm_label[arm] if j == 0 else None
            axes[0].plot(np.arange(1, len(acc) + 1), acc, "o-", color=f"C{i}", alpha=0.6, lw=1, ms=2, label=label)
            axes[1].plot(r["epoch_seconds"], acc, "o-", color=f"C{i}", alpha=0.6, lw=1, ms=2, label=label)
        if main.get(arm):
            steps, lrs = zip(*main[arm][0]["lr_trace"])
            axes[2].plot(steps, lrs, color=f"C{i}", label=arm_label[arm])
    for ax, xlabel in ((axes[0], "epoch"), (axes[1], "seconds (shared 2-core CPU)")):
        ax.axhline(100 * config["target"], color="grey", ls="--", lw=1)
        ax.set(xlabel=xlabel, ylabel="validation accuracy, %", title="validation accuracy (dashed: target)")
    axes[2].set(xlabel="step", ylabel="learning rate", title="the rate each arm used (seed 0)")
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    report.save_figure(fig, "curves", "Validation accuracy per epoch and per second of every run, "
                       "and the learning rate of each arm.")
    if not tests:
        return
    fig, axes = _report.figure(ncols=2, width=4.4, height=3.3)
    for j, r in enumerate(tests):
        axes[0].plot(r["lrs"], r["smoothed"], color="C0", alpha=0.5, lw=1, label="smoothed loss" if j == 0 else None)
        axes[0].axvline(r["suggested_lr"], color="C1", alpha=0.5, lw=1, label="suggested_lr" if j == 0 else None)
        axes[0].axvline(r["min_loss_lr_over_10"], color="C3", alpha=0.5, lw=1, ls="--",
                        label="min_loss_lr_over_10" if j == 0 else None)
    axes[0].set(xscale="log", xlabel="learning rate", ylabel="training loss (smoothed)",
                title="LR range test, one per seed")
    done = [r for r in sweep if not r.get("diverged")]
    axes[1].plot([r["arm"]["lr"] for r in done], [100 * r["val_accuracy"] for r in done], "o-", color="C2")
    for r in tests:
        axes[1].axvline(r["suggested_lr"], color="C1", alpha=0.5, lw=1)
        axes[1].axvline(r["min_loss_lr_over_10"], color="C3", alpha=0.5, lw=1, ls="--")
    axes[1].set(xscale="log", xlabel="constant learning rate", ylabel="final validation accuracy, %",
                title="constant-rate sweep (seed 0)")
    axes[0].legend(fontsize=7)
    axes[0].set_xlim(config["range_min_lr"], config["range_max_lr"])
    report.save_figure(fig, "lr_range", "LR range test per seed (solid lines: suggested_lr, the "
                       "steepest descent of the smoothed loss; dashed: the loss minimum's rate / 10) "
                       "against the constant-rate sweep.")
