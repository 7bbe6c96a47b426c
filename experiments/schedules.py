"""Cyclical and one-cycle learning rates vs a constant rate: time to a target accuracy, and the
LR range test's suggestion against a constant-rate sweep (fast_cnn, Fashion-MNIST)."""

import dataclasses
import time

import keras
from keras_seminar.experiments import _runner
from keras_seminar.experiments._schedules_render import render  # noqa: F401  (the module's `render`)

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
