"""`TrainConfig`: what one training run asks for, checked once (types and ranges only).

What the request means — the model's spec, the effective recipe, the merged options, the
paths — is worked out once by `keras_seminar.training.plan.resolve`.
"""

import dataclasses

import keras

from keras_seminar import _validators as v
from keras_seminar import datasets
from keras_seminar.callbacks.monitors import MONITORS
from keras_seminar.errors import UsageError

__all__ = ["PRECISIONS", "RESERVED_OPTIONS", "TrainConfig"]

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
RESERVED_OPTIONS = ("input_shape", "num_classes")  # set from the data set, never by the user


@dataclasses.dataclass
class TrainConfig:
    """Everything one training run needs. `None` means "the model's recipe decides".

    Attributes:
        model: a name from `keras_seminar.models.available()`.
        dataset: a name from `keras_seminar.datasets.DATASETS` ("mnist", "fashion_mnist").
        epochs, batch_size, learning_rate: override the model's recipe.
        seed: seeds weights, dropout, augmentation and the validation split.
        validation_split: fraction of the training set held out for validation.
        run_name: names `runs/<run_name>/`; the default `<model>_<dataset>_s<seed>` makes
            re-running the same command resume it (see `train`).
        runs_dir: where run folders go (TensorBoard logs, backup, metrics.json).
        models_dir: where `<run_name>.keras` and its card go; None: the run's own folder,
            `runs/<run_name>/` (user-trained models stay out of the shipped `saved_models/`).
        data_dir: prepared data (default $KERAS_SEMINAR_DATA or ~/.keras_seminar/data).
        resume: continue from `runs/<run_name>/backup` when present (False starts over).
        train_limit, test_limit: use only the first N examples (smoke runs, tests).
        model_options: extra keyword arguments for the model builder (never `input_shape` or
            `num_classes`, which come from the data set).
        callbacks: extra Keras callbacks.
        monitors: names from `keras_seminar.callbacks.monitors.MONITORS`, measured on a fixed
            probe of 512 validation images and written beside the TensorBoard logs.
        distribute: train data-parallel on every device; batch_size is the global batch.
        steps_per_execution: train steps per call from `fit`. None: 16 on TensorFlow, 1
            elsewhere, a whole epoch with `fused` (`plan.default_steps_per_execution`).
            Per-batch callbacks then see every Nth step.
        fused: keep the training set on the accelerator (see `keras_seminar.fused`).
        tta: test-time flips. None: the recipe's choice where labels survive flips; True:
            always (an error for MNIST); False: never.
        compile_cache: folder for JAX's persistent compilation cache.
        precision: one of `PRECISIONS` (the classifier head always computes in float32).
        slim: save the model without optimizer state.
        verbose: Keras's `verbose` for `fit`.
    """

    model: str = "fast_cnn"
    dataset: str = "fashion_mnist"
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    seed: int = 0
    validation_split: float = 0.1
    run_name: str | None = None
    runs_dir: str = "runs"
    models_dir: str | None = None
    data_dir: str | None = None
    resume: bool = True
    train_limit: int | None = None
    test_limit: int | None = None
    model_options: dict = dataclasses.field(default_factory=dict)
    callbacks: list = dataclasses.field(default_factory=list)
    monitors: tuple = ()
    distribute: bool = False
    steps_per_execution: int | None = None
    fused: bool = False
    tta: bool | None = None
    compile_cache: str | None = None
    precision: str = "float32"
    slim: bool = False
    verbose: int | str = "auto"

    def __post_init__(self):
        from keras_seminar.training.plan import get_spec

        get_spec(self.model)  # raises on unknown names
        self.dataset = v.check_choice("dataset", self.dataset, datasets.DATASETS)
        for field in ("epochs", "batch_size", "train_limit", "test_limit"):
            setattr(self, field, v.check_int(field, getattr(self, field), 1, allow_none=True))
        self.steps_per_execution = v.check_int("steps_per_execution", self.steps_per_execution, 1,
                                              allow_none=True)
        self.seed = v.check_int("seed", self.seed, 0)
        self.learning_rate = v.check_float("learning_rate", self.learning_rate, 0, low_open=True,
                                           allow_none=True)
        self.validation_split = v.check_float("validation_split", self.validation_split, 0, 0.5)
        if self.run_name is None:
            self.run_name = f"{self.model}_{self.dataset}_s{self.seed}"
        self.run_name = v.check_folder_name("run_name", self.run_name)
        self.runs_dir = v.check_str("runs_dir", self.runs_dir)
        self.models_dir = v.check_str("models_dir", self.models_dir, allow_none=True)
        self.data_dir = v.check_str("data_dir", self.data_dir, allow_none=True)
        self.compile_cache = v.check_str("compile_cache", self.compile_cache, allow_none=True)
        self.precision = v.check_choice("precision", self.precision, PRECISIONS)
        self.tta = v.check_bool("tta", self.tta, allow_none=True)
        for field in ("fused", "distribute", "slim", "resume"):
            setattr(self, field, v.check_bool(field, getattr(self, field)))
        if self.fused and self.distribute:
            raise UsageError("Expected fused or distribute, not both: fused training runs on one "
                             "device.")
        self.monitors = v.check_names("monitors", self.monitors, MONITORS)
        self.callbacks = v.check_instances("callbacks", self.callbacks, keras.callbacks.Callback,
                                           "keras.callbacks.Callback objects")
        if not isinstance(self.model_options, dict) or not all(
                isinstance(k, str) for k in self.model_options):
            raise UsageError("Expected model_options to be a dict of option names. "
                             f"Received: model_options={self.model_options!r}")
        reserved = [k for k in RESERVED_OPTIONS if k in self.model_options]
        if reserved:
            raise UsageError(f"Expected model_options without {' or '.join(reserved)}: they come "
                             f"from the data set ({self.dataset}). Received: model_options="
                             f"{self.model_options!r}")
