"""The search space every zoo model shares, declared once in KerasTuner's idiom.

`declare(hp, spec)` is a model's whole search space: the hyperparameters of the options every
family shares (learning rate and batch size from the recipe; dropout, kernel regularizer, non-
negative weights and augmentation where the builder takes them), then the family's own
(`spec.search_space`, written in the model's file: width and depth). Each hyperparameter is one
`hp.Float` / `hp.Choice` / `hp.Boolean` call, inline, with the check of its value right after
it and its use right below (keras-tuner `applications/resnet.py` declares its space the same
way), so a new hyperparameter is one place. `hp` is a `keras_tuner.HyperParameters`, handed in
by `keras_seminar.tuning`; the package itself never imports KerasTuner.

Example:
    >>> import keras_tuner
    >>> training, options = declare(keras_tuner.HyperParameters(), models.get_spec("cnn"))
    >>> training["learning_rate"], options["dropout"]  # the recipe's and the builder's defaults
    (0.002, 0.5)

Papers: Snoek, Larochelle, Adams, "Practical Bayesian optimization of machine learning
algorithms", NeurIPS 2012; Li et al., "Hyperband", JMLR 2018.
"""

from keras_seminar import _validators as check
from keras_seminar import regularizers
from keras_seminar.models._common import check_rate

__all__ = ["declare", "depth", "LEARNING_RATES", "make_regularizer", "per_stage", "REGULARIZERS",
           "resize", "scale", "width", "WIDTHS"]

REGULARIZERS = ("none", "l1", "l2", "l12", "lq", "group_lasso")
# kind -> (class name for `regularizers.get`, the strength's argument name)
_REGULARIZER_CLASSES = {"l1": ("L1", "l1"), "l2": ("L2", "l2"), "l12": ("L12", "factor"),
                        "lq": ("Lq", "factor"), "group_lasso": ("GroupLasso", "factor")}
# The default learning-rate range per optimizer of the recipes.
LEARNING_RATES = {"adam": (1e-4, 1e-2), "adamw": (1e-4, 1e-2), "sgd": (1e-3, 0.3)}
# Width multipliers a family's `search_space` offers.
WIDTHS = [0.5, 1.0, 2.0]


def declare(hp, spec):
    """Declares the search space of zoo model `spec` (a `ModelSpec`) on `hp`.

    Returns:
        `(training, options)`: `{"learning_rate": ..., "batch_size": ...}` for the recipe, and
        the builder options the values give (only those the model takes).
    """
    recipe, takes, defaults = spec.recipe, spec.options, spec.defaults
    learning_rate = hp.Float("learning_rate", *LEARNING_RATES.get(recipe.optimizer, (1e-4, 1e-1)),
                             sampling="log", default=recipe.learning_rate)
    # Above 1 no optimizer of the recipes trains these models; a range there is a typo.
    check.check_float("learning_rate", learning_rate, 0, 1, low_open=True)
    batch_size = hp.Choice("batch_size", [32, 64, 128, 256], default=recipe.batch_size)
    check.check_int("batch_size", batch_size, minimum=1)
    training, options = {"learning_rate": learning_rate, "batch_size": batch_size}, {}

    if "dropout" in takes:
        options["dropout"] = check_rate("dropout", hp.Float("dropout", 0.0, 0.6, default=defaults["dropout"]))
    if "kernel_regularizer" in takes:
        kind = hp.Choice("regularizer", list(REGULARIZERS), default="none")
        check.check_choice("regularizer", kind, REGULARIZERS)
        # Conditional: KerasTuner samples (and records) them only while their parent is active.
        with hp.conditional_scope("regularizer", [k for k in REGULARIZERS if k != "none"]):
            strength = hp.Float("regularizer_strength", 1e-6, 1e-2, sampling="log", default=1e-4)
        with hp.conditional_scope("regularizer", ["lq"]):
            q = hp.Float("q", 0.25, 1.0, default=0.5)
        regularizer = make_regularizer(kind, 1e-4 if strength is None else strength,
                                       0.5 if q is None else q)
        if regularizer is not None:
            options["kernel_regularizer"] = regularizer
    if "kernel_constraint" in takes and check.check_bool("nonneg", hp.Boolean("nonneg", default=False)):
        options["kernel_constraint"] = "nonneg"
    if "augment" in takes:
        augment = {k: v for k, v in (recipe.augment or {}).items() if k != "translate"}
        translate = hp.Float("augment_translate", 0.0, 0.2,
                             default=(recipe.augment or {}).get("translate", 0.0))
        check.check_float("augment_translate", translate, 0, 0.5)
        if translate > 0:
            augment["translate"] = translate
        options["augment"] = augment or None
    if spec.search_space is not None:
        options.update(spec.search_space(hp, defaults))
    return training, options


def make_regularizer(kind, strength=1e-4, q=0.5):
    """The kernel regularizer named `kind` ("none" gives None) with its strength (and `q` for
    "lq")."""
    check.check_choice("regularizer", kind, REGULARIZERS)
    if kind == "none":
        return None
    check.check_float("regularizer_strength", strength, 0)
    class_name, key = _REGULARIZER_CLASSES[kind]
    config = {key: float(strength)}
    if kind == "lq":
        config["q"] = check.check_float("q", q, 0, 1, low_open=True)
    return regularizers.get({"class_name": class_name, "config": config})


def width(hp):
    """The width multiplier hyperparameter (scales a family's filters / units; `scale`); at
    most 8 (wider nets than that would not fit the machines this runs on)."""
    return check.check_float("width", hp.Choice("width", WIDTHS, default=1.0), 0, 8, low_open=True)


def depth(hp, choices, default):
    """The depth hyperparameter: one of `choices` or the model's own `default`; at most 200
    (blocks per stage of He et al.'s deepest CIFAR ResNet, ResNet-1202)."""
    value = hp.Choice("depth", sorted({*choices, default}), default=default)
    if check.check_int("depth", value, minimum=1) > 200:
        raise ValueError(f"Expected depth in [1, 200]. Received: depth={value!r}")
    return value


def scale(value, factor):
    """`value` (an int or a per-stage list) times `factor`, each at least 1; unchanged at 1."""
    if factor == 1:
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(scale(v, factor) for v in value)
    return max(1, int(round(value * factor)))


def resize(stages, depth):
    """A per-stage list cut or continued to `depth` stages: (32, 64) -> (32, 64, 128)."""
    if len(stages) == depth:
        return stages
    stages = list(stages)
    ratio = stages[-1] / stages[-2] if len(stages) > 1 else 1
    while len(stages) < depth:
        stages.append(int(round(stages[-1] * ratio)))
    return tuple(stages[:depth])


def per_stage(stages, depth):
    """`depth` in every stage of a per-stage list: (3, 3, 3), 5 -> (5, 5, 5); unchanged if so."""
    return stages if all(s == depth for s in stages) else (depth,) * len(stages)
