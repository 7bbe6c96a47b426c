"""`resolve(config) -> Plan`: what a `TrainConfig` means, worked out once.

Everything downstream (building, fitting, the backup's consistency check, the card, the
HParams session) reads the plan; the rules live here once: which data sets allow flips, which
options a model takes, where a run's files go.

Example:
    >>> plan = resolve(TrainConfig(model="maxout_mlp", dataset="mnist"))
    >>> plan.recipe.tta, plan.recipe.augment  # flips filtered out for digits
    (False, None)
"""

import dataclasses
import json
import os

import keras

from keras_seminar import _validators as v
from keras_seminar import backend, datasets, models
from keras_seminar.errors import UsageError

__all__ = ["build_for", "DEFAULT_STEPS_PER_EXECUTION", "default_steps_per_execution",
           "flips_allowed", "get_spec", "Plan", "recipe_for", "resolve"]

# Train steps per compiled call on TensorFlow when the user sets none. TensorFlow compiles the
# 16 steps into one call: the default model's 3-epoch CPU run went from 47.7-52.7 s to
# 41.7-46.6 s wall with the same weights (benchmarks/results/cpu_measurements.md). Keras on JAX
# runs the steps in a Python loop (nothing to gain) and on torch refuses more than 1.
DEFAULT_STEPS_PER_EXECUTION = 16


def default_steps_per_execution(fused=False, distribute=False):
    """Steps per call when the user chose none: a whole epoch when fused (None), 1 when
    distributed (Keras's TensorFlow multi-step loop fails under MirroredStrategy:
    tests/test_distribute.py) or off TensorFlow, else `DEFAULT_STEPS_PER_EXECUTION`."""
    if fused:
        return None
    if distribute or not backend.compiles_step_loops():
        return 1
    return DEFAULT_STEPS_PER_EXECUTION


def get_spec(name):
    """The `ModelSpec` of zoo model `name` (`UsageError` for unknown names)."""
    return models.get_spec(name)


def flips_allowed(dataset):
    """Whether `dataset`'s labels survive a horizontal flip (Fashion-MNIST yes, digits no).
    The one place the flip-safety rule is applied."""
    return bool(datasets.DATASETS[dataset].HORIZONTAL_FLIP_SAFE)


def recipe_for(model_name, **overrides):
    """The model's default `Recipe` with `overrides` (e.g. `epochs=3`) applied."""
    return dataclasses.replace(get_spec(model_name).recipe, **overrides)


def _effective_recipe(config, spec):
    overrides = {k: getattr(config, k) for k in ("epochs", "batch_size", "learning_rate")
                 if getattr(config, k) is not None}
    recipe = dataclasses.replace(spec.recipe, **overrides)
    flips = flips_allowed(config.dataset)
    augment = dict(recipe.augment or {})
    if not flips:
        augment.pop("flip", None)  # a recipe's flip means "where labels survive it"
    if config.tta and not flips:
        raise UsageError(f"Expected tta=False for {config.dataset!r}: its labels do not survive "
                         "horizontal flips (a mirrored digit is not the same digit).")
    tta = (recipe.tta and flips) if config.tta is None else config.tta
    return dataclasses.replace(recipe, augment=augment or None, tta=tta)


def _jsonable(options):
    """Options for JSON: Keras objects (a `MaxNorm(2.0)`) as their Keras config."""
    def convert(value):
        try:
            json.dumps(value)
            return value
        except TypeError:
            return keras.saving.serialize_keras_object(value)

    return {k: convert(val) for k, val in options.items()}


@dataclasses.dataclass(frozen=True)
class Plan:
    """A resolved `TrainConfig`: read by every step of `train()`, recorded on the card.

    Attributes:
        config: the `TrainConfig` it was resolved from (callbacks, verbosity, limits).
        spec: the model's `ModelSpec`.
        recipe: the effective `Recipe`: the user's overrides applied, flips and `tta` already
            filtered for the data set.
        model_options: the builder options: the recipe's, then the user's, plus the recipe's
            `augment` when the model takes it.
        run_dir, backup_dir, model_path: where the run's files go.
    """

    config: object
    spec: object
    recipe: object
    model_options: dict
    run_dir: str
    backup_dir: str
    model_path: str

    @property
    def name(self):
        return self.config.run_name

    @property
    def dataset(self):
        return self.config.dataset

    @property
    def steps_per_execution(self):
        """The steps per call this run uses: the user's, else `default_steps_per_execution`."""
        c = self.config
        if c.steps_per_execution is not None:
            return c.steps_per_execution
        return default_steps_per_execution(c.fused, c.distribute)

    def record(self):
        """The plan as JSON: what the weights depend on (`training`), what only the evaluation
        or the files depend on (`evaluation`), and how the steps ran (`execution`: not compared
        on resume; a killed fused run may go on unfused). Stored with the backup and the card."""
        c = self.config
        return {
            "training": {
                "model": c.model, "dataset": c.dataset, "seed": c.seed,
                "validation_split": c.validation_split, "train_limit": c.train_limit,
                "precision": c.precision,
                "recipe": {k: val for k, val in dataclasses.asdict(self.recipe).items()
                           if k not in ("epochs", "tta")},
                "model_options": _jsonable(self.model_options),
            },
            "evaluation": {"test_limit": c.test_limit, "tta": self.recipe.tta, "slim": c.slim},
            "execution": {"fused": c.fused, "distribute": c.distribute,
                          "steps_per_execution": self.steps_per_execution},
            "epochs": self.recipe.epochs,
        }

    def build(self, input_shape, num_classes):
        """The plan's model at the plan's precision (dtype policy restored afterwards)."""
        policy = keras.mixed_precision.dtype_policy()
        keras.mixed_precision.set_dtype_policy(self.config.precision)
        try:
            return self.spec.build(input_shape=input_shape, num_classes=num_classes,
                                   **self.model_options)
        finally:
            keras.mixed_precision.set_dtype_policy(policy)


def resolve(config):
    """Resolves `config` once: the spec, the effective recipe, the options and the paths.

    Checks the output folders before anything long starts (a file where a folder should be, or
    a folder we cannot write, is a `UsageError` naming the argument).
    """
    spec = get_spec(config.model)
    recipe = _effective_recipe(config, spec)
    options = {**(recipe.model_options or {}), **config.model_options}
    if recipe.augment and "augment" in spec.options:
        options.setdefault("augment", dict(recipe.augment))
    spec.check_options(options)
    v.check_dir("runs_dir", config.runs_dir)
    run_dir = os.path.join(config.runs_dir, config.run_name)
    models_dir = run_dir if config.models_dir is None else v.check_dir("models_dir",
                                                                      config.models_dir)
    if config.data_dir is not None:
        v.check_dir("data_dir", config.data_dir, writable=False)
    if config.compile_cache is not None:
        v.check_dir("compile_cache", config.compile_cache)
    return Plan(config=config, spec=spec, recipe=recipe, model_options=options, run_dir=run_dir,
                backup_dir=os.path.join(run_dir, "backup"),
                model_path=os.path.join(models_dir, f"{config.run_name}.keras"))


def build_for(config, data):
    """The model of `config`, built for `data`'s shapes with the recipe's augmentation."""
    return resolve(config).build(data.input_shape + (1,), data.num_classes)
