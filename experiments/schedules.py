"""Cyclical and one-cycle learning rates vs a constant rate: time to a target accuracy, and the
LR range test's suggestion against a constant-rate sweep (fast_cnn, Fashion-MNIST)."""

import dataclasses
import time
from typing import Annotated

import keras
from keras_seminar.experiments import _runner, _schedules_render
from keras_seminar.experiments._config import Count, Dataset, Fraction, Length, Positive, one_of
from keras_seminar.experiments._protocol import Experiment, register

from keras_seminar import lr_finder
from keras_seminar.errors import TrainingDiverged, UsageError
from keras_seminar.models import build_model, get_spec
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
    clr_bounds: Annotated[tuple[Positive, ...], Length(2)] = (8e-4, 8e-3)  # triangular CLR between one-cycle's start and peak
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


@register
class Schedules(Experiment):
    name = "schedules"
    title = "Learning-rate schedules: constant, cyclical, one-cycle"
    question = ("On the default model (fast_cnn, Fashion-MNIST), how much sooner do a cyclical "
                "learning rate (Smith 2017, triangular) and the one-cycle policy reach a target "
                "validation accuracy than a constant rate, and how accurate are they after the same "
                "short budget? Does the LR range test suggest the rate a constant-rate sweep finds best? "
                "(toolbox measured: keras_seminar.schedules, the recipes' onecycle, keras_seminar.lr_finder)")
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
        scores = [self.runs.get({"arm": "constant", "lr": lr}, 0)["val_accuracy"] for lr in config.sweep_lrs]
        return config.sweep_lrs[scores.index(max(scores))]

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
        _schedules_render.render(config, results, report)
