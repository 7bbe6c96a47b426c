"""One builder signature for every model family, and the training recipe that goes with it.

Every builder is `builder(input_shape=(28, 28, 1), num_classes=10, **options)` and returns an
uncompiled `keras.Model` whose inputs are float images in [0, 1] and whose output is class
probabilities (`classifier_activation="softmax"`) or logits (`None`).

Example:
    >>> from keras_seminar.models import build_model
    >>> model = build_model("cnn", kernel_regularizer="l12")
"""

import dataclasses

_REGISTRY = {}


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


def register(name, recipe, description):
    """Decorator adding a builder to the registry under `name`."""

    def wrap(builder):
        _REGISTRY[name] = (builder, recipe, description)
        return builder

    return wrap


def available():
    """Names of every registered model, sorted."""
    return sorted(_REGISTRY)


def _entry(name):
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"Unknown model {name!r}. Expected one of {available()}.")
    return _REGISTRY[name]


def get_recipe(name):
    """The default `Recipe` of model `name`."""
    return _entry(name)[1]


def describe(name):
    return _entry(name)[2]


def build_model(name, input_shape=(28, 28, 1), num_classes=10, **options):
    """Builds the registered model `name` with the shared builder signature."""
    builder = _entry(name)[0]
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise ValueError(f"Expected num_classes to be an integer >= 2. Received: num_classes={num_classes!r}")
    input_shape = tuple(input_shape)
    if not input_shape or not all(isinstance(d, int) and d > 0 for d in input_shape):
        raise ValueError(f"Expected input_shape to be positive integers. Received: input_shape={input_shape!r}")
    try:
        return builder(input_shape=input_shape, num_classes=num_classes, **options)
    except TypeError as e:
        raise ValueError(f"Bad option for model {name!r}: {e}") from e
