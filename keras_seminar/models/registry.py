"""The model contract: a `ModelSpec` per zoo name, registered by one call in the model's own file.

Every builder is `builder(input_shape=(28, 28, 1), num_classes=10, **options)` and returns an
uncompiled `keras.Model` whose inputs are float images in [0, 1] and whose output is class
probabilities (`classifier_activation="softmax"`) or logits (`None`). What else a builder takes
is declared once, by its own keyword parameters (`ModelSpec.options` reads them); an option it
does not declare is refused by name. What `keras-seminar tune` may change is declared beside the
builder, in KerasTuner's idiom (`search_space(hp, defaults)`, see `models.hyperparameters`).

Example:
    >>> from keras_seminar.models import build_model, get_spec
    >>> model = build_model("cnn", kernel_regularizer="l12")
    >>> "dropout" in get_spec("softmax").options
    False
"""

import dataclasses
import functools
import inspect
import numbers
from collections.abc import Callable

from keras_seminar.errors import UsageError

__all__ = ["available", "build_model", "COMMON_OPTIONS", "describe", "get_recipe", "get_spec",
           "ModelSpec", "Recipe", "register"]

_REGISTRY = {}
_SHAPE_ARGUMENTS = ("input_shape", "num_classes")  # set from the data, never options

# The options the README's "one signature" promises (beyond input_shape / num_classes); a
# family that cannot take one leaves it out of its builder's parameters, and asking for it is
# an error. (A reference list for tests and docs: each builder's signature is the declaration.)
COMMON_OPTIONS = frozenset({"kernel_regularizer", "kernel_constraint", "output_constraint",
                            "activation", "dropout", "augment"})


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a model is trained by default: one commented config per family.

    Attributes:
        epochs: passes over the training set.
        batch_size: examples per step.
        optimizer: "adam", "adamw" or "sgd" (SGD uses Nesterov momentum 0.9).
        learning_rate: peak learning rate.
        schedule: "constant", "cosine" (decay to 0) or "onecycle" (linear warm-up over the
            first `warmup` fraction, then cosine decay).
        warmup: fraction of steps spent warming up for "onecycle".
        weight_decay: decoupled weight decay (adamw / sgd), 0 for none.
        label_smoothing: label smoothing of the cross-entropy.
        augment: None, or a dict for `keras_seminar.training.augmentation`
            (`translate`: fraction of the image, `flip`: horizontal flips, applied only to data
            sets whose labels survive them, i.e. Fashion-MNIST, never MNIST).
        tta: flip test-time augmentation (average each test image with its mirror image), again
            only where labels survive flips.
        model_options: builder options the recipe trains with (JSON values; Keras objects as
            their config dicts), under any the user passes.
    """

    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "constant"
    warmup: float = 0.2
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    augment: dict | None = None
    tta: bool = False
    model_options: dict | None = None


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One zoo model: how to build it, train it, describe it and search around it.

    Attributes:
        name: the zoo name (`keras-seminar train --model NAME`).
        builder: `builder(input_shape=..., num_classes=..., **options)` -> `keras.Model`; every
            option is a keyword parameter with a default (no `**kwargs`): the signature is the
            one declaration of what the model takes (`options`, `defaults`).
        recipe: the default `Recipe`.
        description: one line for `keras-seminar models`.
        search_space: None, or `search_space(hp, defaults) -> {option: value}` declaring, in
            KerasTuner's idiom (`hp.Choice(...)` inline; `hp` is a
            `keras_tuner.HyperParameters`, which the package never imports), the family's own
            hyperparameters (width, depth) and the builder options they give. The options every
            family shares (learning rate, dropout, regularizer, ...) are declared once in
            `models.hyperparameters.declare`.

    Example:
        >>> spec = get_spec("cnn")
        >>> model = spec.build(input_shape=(28, 28, 1), num_classes=10, dropout=0.25)
    """

    name: str
    builder: Callable
    recipe: Recipe
    description: str
    search_space: Callable | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self):
        if self.search_space is not None and not callable(self.search_space):
            raise ValueError("Expected search_space to be a function search_space(hp, defaults). "
                             f"Received: search_space={self.search_space!r} for model {self.name!r}")
        params = inspect.signature(self.builder).parameters.values()
        loose = [p.name for p in params if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
                 or (p.default is p.empty and p.name not in _SHAPE_ARGUMENTS)]
        if loose:
            raise ValueError("Expected every builder option as a keyword parameter with a default "
                             f"(the one declaration of what model {self.name!r} takes). "
                             f"Received: parameters {loose}")

    @functools.cached_property
    def defaults(self):
        """`{option: default}` from the builder's signature (a `functools.partial`'s keywords
        included): the model's options, declared once."""
        return {p.name: p.default for p in inspect.signature(self.builder).parameters.values()
                if p.name not in _SHAPE_ARGUMENTS}

    @property
    def options(self):
        """The options the builder takes beyond `input_shape` / `num_classes` (its signature)."""
        return frozenset(self.defaults)

    def check_options(self, options):
        """Raises `UsageError` for an option this model does not declare."""
        for option in options:
            if option not in self.options:
                raise UsageError(f"Model {self.name!r} does not take option {option!r}. "
                                 f"It takes: {sorted(self.options)}")

    def build(self, input_shape=(28, 28, 1), num_classes=10, **options):
        """Checks the shapes and options, then builds the model.

        A `TypeError` raised inside the builder is a bug and is not wrapped. A backend shape
        error (a layer's output would be empty) is reported as `input_shape` being too small
        when the same options build at a larger input.
        """
        input_shape = _check_input_shape(input_shape)
        num_classes = _check_num_classes(num_classes)
        self.check_options(options)
        try:
            return self.builder(input_shape=input_shape, num_classes=num_classes, **options)
        except UsageError:
            raise
        except ValueError as error:
            larger = tuple(max(d, 64) for d in input_shape[:-1]) + input_shape[-1:]
            if len(input_shape) < 2 or larger == input_shape or not self._builds(larger, num_classes, options):
                raise
            raise UsageError(f"Expected input_shape large enough for model {self.name!r} (its "
                             f"layers would leave nothing to pool or convolve). "
                             f"Received: input_shape={input_shape}") from error

    def _builds(self, input_shape, num_classes, options):
        try:
            self.builder(input_shape=input_shape, num_classes=num_classes, **options)
        except ValueError:
            return False
        return True


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_input_shape(input_shape):
    dims = tuple(input_shape) if isinstance(input_shape, (list, tuple)) else None
    if not dims or not all(_is_int(d) and d > 0 for d in dims):
        raise UsageError("Expected input_shape to be a tuple of positive integers, e.g. (28, 28, 1). "
                         f"Received: input_shape={input_shape!r}")
    return tuple(int(d) for d in dims)


def _check_num_classes(num_classes):
    if not _is_int(num_classes) or num_classes < 2:
        raise UsageError(f"Expected num_classes to be an integer >= 2. Received: num_classes={num_classes!r}")
    return int(num_classes)


def register(spec):
    """Adds `spec` (a `ModelSpec`) to the registry; returns it. One call per zoo name."""
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"Expected a ModelSpec. Received: spec={spec!r}")
    if spec.name in _REGISTRY:
        raise ValueError(f"Expected a new model name. Received: name={spec.name!r} (already registered)")
    _REGISTRY[spec.name] = spec
    return spec


def available():
    """Names of every registered model, sorted."""
    return sorted(_REGISTRY)


def get_spec(name):
    """The `ModelSpec` registered under `name`; `UsageError` listing the names otherwise."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise UsageError(f"Unknown model {name!r}. Expected one of {available()}.")
    return _REGISTRY[name]


def get_recipe(name):
    """The default `Recipe` of model `name`."""
    return get_spec(name).recipe


def describe(name):
    """The one-line description of model `name`."""
    return get_spec(name).description


def build_model(name, input_shape=(28, 28, 1), num_classes=10, **options):
    """Builds the registered model `name`: `get_spec(name).build(...)`."""
    return get_spec(name).build(input_shape=input_shape, num_classes=num_classes, **options)
