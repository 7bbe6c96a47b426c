"""A `keras_tuner.HyperModel` for every model of the zoo: one class, the search spaces as data.

`ZooHyperModel("cnn")` declares, in `build(hp)`, what the family of `cnn` can change:
learning rate (log), batch size (used in `fit`), dropout, kernel regularizer kind (none / l1 /
l2 / l12 / lq / group_lasso) with its strength (log) and q (for lq), non-negative weights,
augmentation strength (random translation), and the width / depth of the network where the
family has them. What a family has is read from its `ModelSpec`: the declared `options`
(`dropout`, `kernel_regularizer`, `kernel_constraint`, `augment`) and the `search_space` data
(width and depth) written in the model's own file; the other settings come from the model's
recipe (optimizer, schedule, label smoothing).

Example:
    >>> hm = ZooHyperModel("cnn", fixed={"dropout": 0.5},
    ...                    space={"learning_rate": (1e-4, 1e-3), "regularizer": ["none", "l12"]})
    >>> model = hm.build(keras_tuner.HyperParameters())  # compiled, default values

Papers: Snoek, Larochelle, Adams, "Practical Bayesian optimization of machine learning
algorithms", NeurIPS 2012; Li et al., "Hyperband", JMLR 2018.
"""

import dataclasses
import math

import keras_tuner
from keras_seminar.tuning.trial_check import check_trial

from keras_seminar import backend, models, regularizers
from keras_seminar.callbacks import NaNGuard
from keras_seminar.training import compile_model

REGULARIZERS = ("none", "l1", "l2", "l12", "lq", "group_lasso")
# kind -> (class name for `regularizers.get`, the strength's argument name)
_REGULARIZER_CLASSES = {"l1": ("L1", "l1"), "l2": ("L2", "l2"), "l12": ("L12", "factor"),
                        "lq": ("Lq", "factor"), "group_lasso": ("GroupLasso", "factor")}
LEARNING_RATES = {"adam": (1e-4, 1e-2), "adamw": (1e-4, 1e-2), "sgd": (1e-3, 0.3)}


# name -> (kind, default domain): "log"/"float" take (min, max), "choice"/"bool" a list.
SPACE = {
    "learning_rate": ("log", None),  # per optimizer, LEARNING_RATES
    "batch_size": ("choice", (32, 64, 128, 256)),
    "dropout": ("float", (0.0, 0.6)),
    "regularizer": ("choice", REGULARIZERS),
    "regularizer_strength": ("log", (1e-6, 1e-2)),
    "q": ("float", (0.25, 1.0)),
    "nonneg": ("bool", (False, True)),
    "augment_translate": ("float", (0.0, 0.2)),
    "width": ("choice", (0.5, 1.0, 2.0)),
    "depth": ("choice", None),  # per family, the spec's search_space["depth"]["choices"]
}


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# name -> (is the value valid, what is expected)
_CHECKS = {
    "learning_rate": (lambda v: _number(v) and v > 0, "a finite number > 0"),
    "batch_size": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0, "a positive integer"),
    "dropout": (lambda v: _number(v) and 0 <= v < 1, "a number in [0, 1)"),
    "regularizer": (lambda v: v in REGULARIZERS, f"one of {list(REGULARIZERS)}"),
    "regularizer_strength": (lambda v: _number(v) and v >= 0, "a finite number >= 0"),
    "q": (lambda v: _number(v) and 0 < v <= 1, "a number in (0, 1]"),
    "nonneg": (lambda v: isinstance(v, bool), "True or False"),
    "augment_translate": (lambda v: _number(v) and 0 <= v < 0.5, "a number in [0, 0.5)"),
    "width": (lambda v: _number(v) and v > 0, "a finite number > 0"),
    "depth": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0, "a positive integer"),
}


def make_regularizer(kind, strength=1e-4, q=0.5):
    """The kernel regularizer named `kind` ("none" gives None) with its strength."""
    if kind == "none":
        return None
    class_name, key = _REGULARIZER_CLASSES[kind]
    config = {key: float(strength), **({"q": float(q)} if kind == "lq" else {})}
    return regularizers.get({"class_name": class_name, "config": config})


def _scale(value, factor):
    if isinstance(value, (list, tuple)):
        return type(value)(_scale(v, factor) for v in value)
    return max(1, int(round(value * factor)))


def _resize(stages, depth):
    """A per-stage list cut or continued to `depth` stages: (32, 64) -> (32, 64, 128)."""
    stages = list(stages)
    ratio = stages[-1] / stages[-2] if len(stages) > 1 else 1
    while len(stages) < depth:
        stages.append(int(round(stages[-1] * ratio)))
    return tuple(stages[:depth])


class ZooHyperModel(keras_tuner.HyperModel):
    """Searches the training settings and shape of one zoo model.

    Args:
        model_name: a name from `keras_seminar.models.available()`.
        fixed: `{hyperparameter: value}` held fixed (`hp.Fixed`), e.g. `{"dropout": 0.5}`.
        space: `{hyperparameter: domain}` restricting the search: `(min, max)` for the numeric
            ones, a list of values for any (e.g. `{"batch_size": [64, 128]}`).
        input_shape, num_classes: the data's image shape and class count.
        epochs: epochs the learning-rate schedule spans (default: the recipe's).
        train_size: training examples, for the schedule's steps per epoch.
    """

    def __init__(self, model_name, fixed=None, space=None, input_shape=(28, 28, 1),
                 num_classes=10, epochs=None, train_size=54000, name=None, tunable=True):
        super().__init__(name=name or model_name, tunable=tunable)
        self.spec = models.get_spec(model_name)  # UsageError on unknown names
        self.recipe, self.model_name = self.spec.recipe, model_name
        self.input_shape, self.num_classes = tuple(input_shape), num_classes
        for arg, value in (("epochs", epochs), ("train_size", train_size)):
            if value is not None and not _CHECKS["batch_size"][0](value):
                raise ValueError(f"Expected {arg} to be a positive integer. Received: {arg}={value!r}")
        self.epochs, self.train_size = epochs or self.recipe.epochs, train_size
        self.builder_defaults = self.spec.defaults
        self.width = tuple(self.spec.search_space.get("width", ()))
        self.depth = self.spec.search_space.get("depth")  # {"option", "rule", "choices"} or None
        self.domains = {name: SPACE[name] for name in self._applicable()}
        self.domains["learning_rate"] = ("log", LEARNING_RATES.get(self.recipe.optimizer, (1e-4, 1e-1)))
        if "depth" in self.domains:
            choices = {*self.depth["choices"], self._default("depth")}
            self.domains["depth"] = ("choice", tuple(sorted(choices)))
        for hp_name, domain in (space or {}).items():
            self.domains[hp_name] = self._check_domain(hp_name, domain)
        self.fixed = dict(fixed or {})
        for hp_name, value in self.fixed.items():
            self._check_value(hp_name, value, "fixed")

    def _applicable(self):
        names = ["learning_rate", "batch_size"]
        has = self.spec.options.__contains__
        names += ["dropout"] if has("dropout") else []
        names += ["regularizer", "regularizer_strength", "q"] if has("kernel_regularizer") else []
        names += ["nonneg"] if has("kernel_constraint") else []
        names += ["augment_translate"] if has("augment") else []
        names += ["width"] if self.width else []
        names += ["depth"] if self.depth else []
        return names

    @property
    def hyperparameter_names(self):
        return list(self.domains)

    def _check_value(self, hp_name, value, where):
        if hp_name not in self.domains:
            raise ValueError(f"Unknown hyperparameter {hp_name!r} in {where} for model "
                             f"{self.model_name!r}. Expected one of {self.hyperparameter_names}.")
        valid, expected = _CHECKS[hp_name]
        if not valid(value):
            raise ValueError(f"Expected {hp_name} to be {expected}. Received: {where}[{hp_name!r}]={value!r}")

    def _check_domain(self, hp_name, domain):
        if hp_name not in self.domains:
            raise ValueError(f"Unknown hyperparameter {hp_name!r} in space for model "
                             f"{self.model_name!r}. Expected one of {self.hyperparameter_names}.")
        kind = self.domains[hp_name][0]
        if isinstance(domain, list) and domain:
            for value in domain:
                self._check_value(hp_name, value, "space")
            return ("choice", tuple(domain))
        if kind in ("log", "float") and isinstance(domain, tuple) and len(domain) == 2:
            for value in domain:
                self._check_value(hp_name, value, "space")
            if not domain[0] < domain[1] or (kind == "log" and domain[0] <= 0):
                raise ValueError(f"Expected space[{hp_name!r}] = (min, max) with 0 < min < max. "
                                 f"Received: {domain!r}")
            return (kind, domain)
        raise ValueError(f"Expected space[{hp_name!r}] to be a non-empty list of values"
                         f"{' or a (min, max) tuple' if kind in ('log', 'float') else ''}. "
                         f"Received: {domain!r}")

    def _default(self, hp_name):
        recipe, defaults, depth = self.recipe, self.builder_defaults, self.depth
        if hp_name == "depth":
            value, rule = defaults[depth["option"]], depth["rule"]
            return value if rule == "value" else len(value) if rule == "length" else value[0]
        return {"learning_rate": recipe.learning_rate, "batch_size": recipe.batch_size,
                "dropout": defaults.get("dropout"), "regularizer": "none",
                "regularizer_strength": 1e-4, "q": 0.5, "nonneg": False,
                "augment_translate": (recipe.augment or {}).get("translate", 0.0), "width": 1.0,
                }[hp_name]

    def _declare(self, hp, hp_name, **condition):
        if hp_name in self.fixed:
            return hp.Fixed(hp_name, self.fixed[hp_name], **condition)
        kind, domain = self.domains[hp_name]
        default = self._default(hp_name)
        if kind == "bool" or (kind == "choice" and len(domain) == 1):
            if len(domain) == 1:
                return hp.Fixed(hp_name, domain[0], **condition)
            return hp.Boolean(hp_name, default=default, **condition)
        if kind == "choice":
            default = default if default in domain else min(domain, key=lambda v: _distance(v, default))
            return hp.Choice(hp_name, list(domain), default=default, **condition)
        low, high = domain
        return hp.Float(hp_name, low, high, sampling="log" if kind == "log" else "linear",
                        default=min(max(default, low), high), **condition)

    def declare(self, hp):
        """Declares this model's search space on `hp`; returns the values of the active ones."""
        values = {}
        for hp_name in self.domains:
            if hp_name in ("regularizer_strength", "q"):
                continue
            values[hp_name] = self._declare(hp, hp_name)
        # Conditional: KerasTuner only samples (and records) them while the parent is active.
        kinds = ([self.fixed["regularizer"]] if "regularizer" in self.fixed
                 else list(self.domains.get("regularizer", ("choice", ()))[1]))
        kinds = [k for k in kinds if k != "none"]
        if kinds:
            values["regularizer_strength"] = self._declare(
                hp, "regularizer_strength", parent_name="regularizer", parent_values=kinds)
        if "lq" in kinds:
            values["q"] = self._declare(hp, "q", parent_name="regularizer", parent_values=["lq"])
        values = {k: v for k, v in values.items() if v is not None}
        return values

    def builder_options(self, values):
        """The builder's keyword arguments for hyperparameter `values`."""
        options, depth = {}, self.depth
        if "dropout" in values:
            options["dropout"] = values["dropout"]
        if values.get("regularizer", "none") != "none":
            options["kernel_regularizer"] = make_regularizer(
                values["regularizer"], values["regularizer_strength"], values.get("q", 0.5))
        if values.get("nonneg"):
            options["kernel_constraint"] = "nonneg"
        if "augment_translate" in values:
            augment = {k: v for k, v in (self.recipe.augment or {}).items() if k != "translate"}
            if values["augment_translate"] > 0:
                augment["translate"] = values["augment_translate"]
            options["augment"] = augment or None
        if "depth" in values:
            d, default, rule = values["depth"], self.builder_defaults[depth["option"]], depth["rule"]
            options[depth["option"]] = (d if rule == "value" else _resize(default, d)
                                        if rule == "length" else (d,) * len(default))
        for option in self.width if values.get("width", 1.0) != 1.0 else ():
            options[option] = _scale(options.get(option, self.builder_defaults[option]), values["width"])
        return options

    def build(self, hp):
        values = self.declare(hp)
        model = models.build_model(self.model_name, self.input_shape, self.num_classes,
                                   **self.builder_options(values))
        recipe = dataclasses.replace(self.recipe, learning_rate=values["learning_rate"],
                                     batch_size=values["batch_size"], epochs=self.epochs)
        return compile_model(model, recipe, steps_per_epoch=-(-self.train_size // recipe.batch_size))

    def fit(self, hp, model, *args, **kwargs):
        """`model.fit` with the tuned batch size; a trial that diverged, whose training loss
        rose or whose validation accuracy is at chance fails (`tuning.trial_check`)."""
        batch_size = self._declare(hp, "batch_size")
        guard = NaNGuard()
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), guard]
        shuffle = kwargs.pop("shuffle", True)
        if len(args) == 2 and shuffle:  # arrays: a new order each epoch, also on TF
            history = backend.fit_reshuffled(model, *args, batch_size, **kwargs)  # seeded by the trial (tuner.py)
        else:
            history = model.fit(*args, batch_size=batch_size, shuffle=shuffle, **kwargs)
        check_trial(guard, history.history, self.num_classes)
        return history


def _distance(a, b):
    return abs(math.log(a / b)) if _number(a) and _number(b) and a > 0 and b > 0 else 0

