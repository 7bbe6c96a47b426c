"""The one fit / evaluate / save path that the CLI, scripts, experiments and tuning share.

Example:
    >>> from keras_seminar.training import TrainConfig, train
    >>> result = train(TrainConfig(model="cnn", dataset="fashion_mnist", epochs=1))
    >>> result["test"]["accuracy"]
"""

import contextlib
import dataclasses
import inspect
import json
import os
import re
import shutil
import time

import keras
import numpy as np

from keras_seminar import backend, datasets, models, saving
from keras_seminar.callbacks import AtomicBackupAndRestore, NaNGuard, TensorBoard, make_monitors
from keras_seminar.fused import fit_fused
from keras_seminar.losses import SparseCategoricalCrossentropy

_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


from keras_seminar.errors import TrainingDiverged  # noqa: E402  (re-exported)


def recipe_for(model_name, **overrides):
    """The model's default `Recipe` with `overrides` (e.g. `epochs=3`) applied."""
    return dataclasses.replace(models.get_recipe(model_name), **overrides)


@dataclasses.dataclass
class TrainConfig:
    """Everything one training run needs. `None` means "the model's recipe decides".

    Attributes:
        model: a name from `keras_seminar.models.available()`.
        dataset: "mnist" or "fashion_mnist".
        epochs, batch_size, learning_rate: override the model's recipe.
        seed: seeds weights, dropout, augmentation and the validation split.
        validation_split: fraction of the training set held out for validation.
        run_name: names `runs/<run_name>/` and `saved_models/<run_name>.keras`; the default
            `<model>_<dataset>_s<seed>` makes re-running the same command resume it.
        resume: continue from `runs/<run_name>/backup` when present (False starts over).
        train_limit, test_limit: use only the first N examples (smoke runs, tests).
        model_options: extra keyword arguments for the model builder.
        callbacks: extra Keras callbacks.
        monitors: names from `keras_seminar.callbacks.monitors.MONITORS` ("gradients",
            "sparsity", "infoplane", "histograms", "filters"), measured on a fixed probe of 512
            validation images and written beside the TensorBoard logs.
        distribute: train data-parallel on every device (`keras.distribution.DataParallel` on
            JAX, `tf.distribute.MirroredStrategy` on TensorFlow); batch_size is the global batch.
        steps_per_execution: train steps per call from `fit` (fewer callbacks and host round
            trips). TensorFlow compiles them into one loop; Keras's JAX trainer still dispatches
            them one by one, unless `fused`.
        fused: keep the training set on the accelerator and run `steps_per_execution` steps (1:
            the whole epoch) as one compiled call (JAX on a GPU/TPU); elsewhere it is `fit` with
            that many steps per execution. See `keras_seminar.fused`. Single device only.
        tta: test-time augmentation: average the predictions on each test image and its mirror
            image. None: the recipe's choice, applied only to data sets whose labels survive
            flips; True: always (an error for MNIST); False: never.
        compile_cache: folder for JAX's persistent compilation cache (second runs skip compiling).
        precision: "float32", "mixed_bfloat16" or "mixed_float16" (Keras dtype policy for the
            build; the classifier head always computes in float32).
        slim: save the model without optimizer state (for shipping; about 1/3 of the size).
    """

    model: str = "cnn"
    dataset: str = "fashion_mnist"
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    seed: int = 0
    validation_split: float = 0.1
    run_name: str | None = None
    runs_dir: str = "runs"
    models_dir: str = "saved_models"
    data_dir: str | None = None
    resume: bool = True
    train_limit: int | None = None
    test_limit: int | None = None
    model_options: dict = dataclasses.field(default_factory=dict)
    callbacks: list = dataclasses.field(default_factory=list)
    monitors: tuple = ()
    distribute: bool = False
    steps_per_execution: int = 1
    fused: bool = False
    tta: bool | None = None
    compile_cache: str | None = None
    precision: str = "float32"
    slim: bool = False
    verbose: int | str = "auto"

    def __post_init__(self):
        models.registry._entry(self.model)  # raises on unknown names
        if self.dataset not in datasets.DATASETS:
            raise ValueError(f"Unknown dataset {self.dataset!r}. Expected one of {sorted(datasets.DATASETS)}.")
        for field in ("epochs", "batch_size", "train_limit", "test_limit", "steps_per_execution"):
            value = getattr(self, field)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"Expected {field} to be a positive integer. Received: {field}={value!r}")
        lr = self.learning_rate
        if lr is not None and (isinstance(lr, bool) or not isinstance(lr, (int, float))
                               or not np.isfinite(lr) or lr <= 0):
            raise ValueError(f"Expected learning_rate > 0. Received: learning_rate={lr!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"Expected seed to be a non-negative integer. Received: seed={self.seed!r}")
        if self.run_name is None:
            self.run_name = f"{self.model}_{self.dataset}_s{self.seed}"
        if not _RUN_NAME.match(self.run_name):
            raise ValueError(f"Expected run_name of letters, digits, '_', '.', '-'. Received: run_name={self.run_name!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"Unknown precision {self.precision!r}. Expected one of {PRECISIONS}.")
        if self.tta is not None and not isinstance(self.tta, bool):
            raise ValueError(f"Expected tta to be True, False or None. Received: tta={self.tta!r}")
        for field in ("fused", "distribute", "slim", "resume"):
            if not isinstance(getattr(self, field), bool):
                raise ValueError(f"Expected {field} to be True or False. Received: {field}={getattr(self, field)!r}")
        if self.fused and self.distribute:
            raise ValueError("Expected fused or distribute, not both: fused training runs on one device.")
        if self.tta and not datasets.DATASETS[self.dataset].HORIZONTAL_FLIP_SAFE:
            raise ValueError(f"Expected tta=False for {self.dataset!r}: its labels do not survive "
                             "horizontal flips (a mirrored digit is not the same digit).")
        if not isinstance(self.model_options, dict):
            raise ValueError(f"Expected model_options to be a dict. Received: {self.model_options!r}")

    @property
    def use_tta(self):
        """Whether the test predictions average each image with its mirror image."""
        if self.tta is None:
            return self.recipe.tta and datasets.DATASETS[self.dataset].HORIZONTAL_FLIP_SAFE
        return self.tta

    @property
    def recipe(self):
        recipe = models.get_recipe(self.model)
        overrides = {k: getattr(self, k) for k in ("epochs", "batch_size", "learning_rate")
                     if getattr(self, k) is not None}
        return dataclasses.replace(recipe, **overrides)


def _jsonable(options):
    """`model_options` for the JSON card: Keras objects (a `MaxNorm(2.0)`, an `L12(1e-4)`) as
    their Keras config, so a card never fails to write after a long training run."""
    def convert(value):
        try:
            json.dumps(value)
            return value
        except TypeError:
            return keras.saving.serialize_keras_object(value)

    return {k: convert(v) for k, v in options.items()}


def images_to_inputs(x):
    """uint8 images (N, 28, 28) -> float32 in [0, 1] with a channel axis (N, 28, 28, 1)."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.dtype == np.uint8:
        return x.astype("float32") / 255.0
    return x.astype("float32")


def make_optimizer(recipe, steps_per_epoch):
    """The optimizer and learning-rate schedule a recipe asks for."""
    total = max(1, recipe.epochs * steps_per_epoch)
    lr = recipe.learning_rate
    if recipe.schedule == "constant":
        schedule = lr
    elif recipe.schedule == "cosine":
        schedule = keras.optimizers.schedules.CosineDecay(lr, decay_steps=total)
    elif recipe.schedule == "onecycle":
        warmup = int(total * recipe.warmup)
        schedule = keras.optimizers.schedules.CosineDecay(
            lr / 10.0, decay_steps=max(1, total - warmup), warmup_target=lr, warmup_steps=warmup)
    else:
        raise ValueError(f"Unknown schedule {recipe.schedule!r}. Expected constant, cosine, onecycle.")
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(schedule)
    if recipe.optimizer == "adamw":
        return keras.optimizers.AdamW(schedule, weight_decay=recipe.weight_decay)
    if recipe.optimizer == "sgd":
        return keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True,
                                    weight_decay=recipe.weight_decay or None)
    raise ValueError(f"Unknown optimizer {recipe.optimizer!r}. Expected adam, adamw, sgd.")


def compile_model(model, recipe, steps_per_epoch, steps_per_execution=1):
    loss = SparseCategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
    model.compile(optimizer=make_optimizer(recipe, steps_per_epoch), loss=loss,
                  metrics=["accuracy"], steps_per_execution=steps_per_execution)
    return model


def fit_arrays(model, recipe, x_train, y_train, validation_data=None, callbacks=(), verbose=0,
               seed=None, epochs=None, steps_per_execution=1, fused=False):
    """Compiles `model` for `recipe` (optimizer, schedule, label smoothing) and fits it.

    The one fit path: `train()` and the experiments use it. A NaN guard stops on the first
    non-finite loss and `TrainingDiverged` is raised.

    Args:
        model: an uncompiled (or to be recompiled) `keras.Model`.
        recipe: a `models.Recipe` (see `recipe_for`).
        x_train, y_train: float inputs and integer labels.
        validation_data: `(x_val, y_val)` or None.
        callbacks: extra Keras callbacks.
        verbose: Keras's `verbose`.
        seed: seeds Keras (weights already built are not re-drawn) and the fused shuffling.
        epochs: total epochs (default `recipe.epochs`; resumed fits start where a backup left).
        steps_per_execution, fused: see `TrainConfig`.

    Returns:
        The `keras.callbacks.History` of this fit.

    Example:
        >>> history = fit_arrays(build_model("softmax"), recipe_for("softmax", epochs=1), x, y)
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    epochs = recipe.epochs if epochs is None else epochs
    steps = -(-len(x_train) // recipe.batch_size)
    compile_model(model, recipe, steps, 1 if fused else steps_per_execution)
    guard = NaNGuard()
    fit_kwargs = {"epochs": epochs, "callbacks": [guard, *callbacks], "verbose": verbose,
                  "validation_data": validation_data}
    if fused:
        per_call = steps_per_execution if steps_per_execution > 1 else None
        history = fit_fused(model, x_train, y_train, recipe.batch_size, steps_per_call=per_call,
                            seed=seed, **fit_kwargs)
    else:
        history = model.fit(x_train, y_train, batch_size=recipe.batch_size, **fit_kwargs)
    if guard.diverged_at is not None:
        epoch, batch, loss = guard.diverged_at
        raise TrainingDiverged(
            f"Training diverged: loss={loss} at epoch {epoch + 1}, batch {batch}. Nothing was "
            f"saved. Lower the learning rate (now {recipe.learning_rate}) or the regularizer "
            "strength.")
    return history


def build_for(config, data):
    """The model of `config`, built for `data`'s shapes with the recipe's augmentation."""
    builder = models.registry._entry(config.model)[0]
    options = {**(config.recipe.model_options or {}), **config.model_options}
    augment = dict(config.recipe.augment or {})
    if not datasets.DATASETS[config.dataset].HORIZONTAL_FLIP_SAFE:
        augment.pop("flip", None)  # a recipe's flip means "where labels survive it"
    if augment and "augment" in inspect.signature(builder).parameters:
        options.setdefault("augment", augment)
    return models.build_model(config.model, input_shape=data.input_shape + (1,),
                              num_classes=data.num_classes, **options)


def test_metrics(model, x, y, replicas=1, batch_size=512, tta=False):
    """Accuracy and cross-entropy on the whole test set.

    The inputs are padded to a multiple of `replicas` (data-parallel batches must split evenly)
    and the padding is dropped from the predictions, so no test example is lost. With `tta`
    the probabilities are the mean over each image and its left-right mirror image.
    """
    pad = (-len(x)) % replicas
    x_padded = np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)]) if pad else x
    probs = np.asarray(model.predict(x_padded, batch_size=batch_size, verbose=0),
                       dtype=np.float64)[: len(x)]
    if tta:
        mirrored = np.asarray(model.predict(x_padded[:, :, ::-1], batch_size=batch_size, verbose=0),
                              dtype=np.float64)[: len(x)]
        probs = (probs + mirrored) / 2
    p_true = np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0)
    return {"accuracy": float(np.mean(np.argmax(probs, -1) == y)),
            "loss": float(-np.mean(np.log(p_true)))}


def train(config=None, **overrides):
    """Trains, evaluates on the test set and saves one model; returns the results as a dict.

    Writes `runs/<run_name>/` (TensorBoard logs, resumable backup, metrics.json) and
    `saved_models/<run_name>.keras` with its model card.
    """
    config = dataclasses.replace(config, **overrides) if config else TrainConfig(**overrides)
    recipe = config.recipe
    keras.utils.set_random_seed(config.seed)
    data = datasets.load(config.dataset, config.validation_split, config.seed, config.data_dir)
    x_train, y_train = images_to_inputs(data.x_train[:config.train_limit]), data.y_train[:config.train_limit]
    x_val, y_val = images_to_inputs(data.x_val), data.y_val
    x_test, y_test = images_to_inputs(data.x_test[:config.test_limit]), data.y_test[:config.test_limit]
    run_dir = os.path.join(config.runs_dir, config.run_name)
    backup_dir = os.path.join(run_dir, "backup")
    if not config.resume and os.path.isdir(backup_dir):
        shutil.rmtree(backup_dir)

    if config.compile_cache:
        backend.enable_compilation_cache(config.compile_cache)
    scope, replicas = backend.data_parallel_scope() if config.distribute else (
        contextlib.nullcontext(), 1)
    if recipe.batch_size % replicas:
        raise ValueError(f"Expected batch_size divisible by the {replicas} devices. "
                         f"Received: batch_size={recipe.batch_size}")
    if replicas > 1:  # every batch, the last one too, must split evenly over the devices
        x_train, y_train = x_train[:len(x_train) - len(x_train) % replicas], y_train[:len(y_train) - len(y_train) % replicas]
        x_val, y_val = x_val[:len(x_val) - len(x_val) % replicas], y_val[:len(y_val) - len(y_val) % replicas]
    callbacks = [AtomicBackupAndRestore(backup_dir), TensorBoard(run_dir), *config.callbacks]
    if config.monitors:
        probe_x, probe_y = (x_val, y_val) if len(x_val) else (x_train, y_train)
        callbacks += make_monitors(config.monitors, run_dir, probe_x[:512], probe_y[:512])
    with scope:
        policy = keras.mixed_precision.dtype_policy()
        keras.mixed_precision.set_dtype_policy(config.precision)
        try:
            model = build_for(config, data)
        finally:
            keras.mixed_precision.set_dtype_policy(policy)
        start = time.perf_counter()
        try:
            history = fit_arrays(
                model, recipe, x_train, y_train,
                validation_data=(x_val, y_val) if len(x_val) else None, callbacks=callbacks,
                verbose=config.verbose, seed=config.seed,
                steps_per_execution=config.steps_per_execution, fused=config.fused)
        except ValueError as e:
            if "weights" in str(e) or "shape" in str(e):
                raise ValueError(f"{backup_dir} holds a backup of a different model ({e}). Use "
                                 "another --run-name, or --no-resume to start over.") from e
            raise
        train_seconds = time.perf_counter() - start
        test = test_metrics(model, x_test, y_test, replicas, tta=config.use_tta)
    test = {k: float(v) for k, v in test.items()}
    result = {
        "run_name": config.run_name, "model": config.model, "dataset": config.dataset,
        "seed": config.seed, "epochs": recipe.epochs, "recipe": dataclasses.asdict(recipe),
        "model_options": _jsonable(config.model_options), "data_source": data.source,
        "train_examples": len(x_train), "test_examples": len(x_test),
        "test": test, "test_time_augmentation": "flip" if config.use_tta else None,
        "fused": config.fused, "train_seconds": round(train_seconds, 2), "replicas": replicas,
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "environment": saving.environment(),
    }
    model_path = os.path.join(config.models_dir, f"{config.run_name}.keras")
    card = saving.save_model(model, model_path, card={
        "architecture": models.describe(config.model), **{k: v for k, v in result.items()
                                                          if k != "history"}},
                             include_optimizer=not config.slim)
    result["model_path"], result["sha256"] = model_path, card["sha256"]
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "metrics.json"), "w") as f:
        json.dump(result, f, indent=2)
    return result


def evaluate_saved(path, dataset=None, data_dir=None, limit=None, batch_size=512):
    """Test-set metrics of a saved model; the data set defaults to the one on its card."""
    model = saving.load_model(path)
    card = saving.read_card(path) or {}
    dataset = dataset or card.get("dataset")
    if dataset is None:
        raise ValueError(f"{path} has no card naming its dataset; pass --dataset.")
    data = datasets.load(dataset, validation_split=0.0, data_dir=data_dir)
    x, y = images_to_inputs(data.x_test[:limit]), data.y_test[:limit]
    tta = card.get("test_time_augmentation") == "flip" and datasets.DATASETS[dataset].HORIZONTAL_FLIP_SAFE
    accuracy = test_metrics(model, x, y, batch_size=batch_size, tta=tta)["accuracy"]
    return {"model": path, "dataset": dataset, "examples": len(y), "accuracy": accuracy,
            "card_accuracy": card.get("test", {}).get("accuracy")}
