"""A `keras_tuner.HyperModel` for every model of the zoo, reading the space the model declares.

A model's search space is declared once, beside the model, in KerasTuner's idiom:
`keras_seminar.models.hyperparameters.declare(hp, spec)` (learning rate, batch size, dropout,
kernel regularizer kind / strength / q, non-negative weights, augmentation, where the builder
takes them) and the family's `search_space(hp, defaults)` (width, depth). `ZooHyperModel` adds
what a user holds fixed or restricts, as KerasTuner itself does: hyperparameters declared
before the model's own declaration runs (`declare_hyperparameters`) take precedence over it.

Example:
    >>> hm = ZooHyperModel("cnn", fixed={"dropout": 0.5},
    ...                    space={"learning_rate": (1e-4, 1e-3), "regularizer": ["none", "l12"]})
    >>> model = hm.build(keras_tuner.HyperParameters())  # compiled, default values
"""

import dataclasses
import math

import keras_tuner
from keras_seminar.tuning.trial_check import check_trial

from keras_seminar import _validators as check
from keras_seminar import models
from keras_seminar.errors import UsageError
from keras_seminar.models import hyperparameters
from keras_seminar.training import compile_model, fit_model

__all__ = ["declared_space", "json_space", "parse_domain", "restricted_space", "ZooHyperModel"]

_HP = keras_tuner.engine.hyperparameters


class ZooHyperModel(keras_tuner.HyperModel):
    """Searches the training settings and shape of one zoo model.

    Args:
        model_name: a name from `keras_seminar.models.available()`.
        fixed: `{hyperparameter: value}` held fixed (`hp.Fixed`), e.g. `{"dropout": 0.5}`.
        space: `{hyperparameter: domain}` restricting the search (`parse_domain`): a
            `(min, max)` tuple is a range, a list a set of choices (e.g.
            `{"batch_size": [64, 128]}`).
        input_shape, num_classes: the data's image shape and class count.
        epochs: epochs the learning-rate schedule spans (default: the recipe's).
        train_size: training examples, for the schedule's steps per epoch.

    Every value in `fixed` and `space` is checked by the model's own declaration before any
    trial (`UsageError` naming the hyperparameter and the value).
    """

    def __init__(self, model_name, fixed=None, space=None, input_shape=(28, 28, 1),
                 num_classes=10, epochs=None, train_size=54000, name=None, tunable=True):
        super().__init__(name=name or model_name, tunable=tunable)
        self.spec = models.get_spec(model_name)  # UsageError on unknown names
        self.recipe, self.model_name = self.spec.recipe, model_name
        self.input_shape, self.num_classes = tuple(input_shape), num_classes
        self.epochs = check.check_int("epochs", epochs, minimum=1, allow_none=True) or self.recipe.epochs
        self.train_size = check.check_int("train_size", train_size, minimum=1)
        self.space = restricted_space(self.spec, fixed or {}, space or {})

    @property
    def hyperparameter_names(self):
        return [hp.name for hp in self.space.space]

    def declare_hyperparameters(self, hp):
        """KerasTuner's hook: the whole space, the user's `fixed` / `space` applied, goes
        first, so the model's own declaration finds (and returns) these."""
        hp.merge(self.space, overwrite=False)

    def declare(self, hp):
        """Declares this model's search space on `hp`; returns `(training, builder options)`
        (`models.hyperparameters.declare`)."""
        self.declare_hyperparameters(hp)
        return hyperparameters.declare(hp, self.spec)

    def build(self, hp):
        training, options = self.declare(hp)
        model = self.spec.build(input_shape=self.input_shape, num_classes=self.num_classes, **options)
        recipe = dataclasses.replace(self.recipe, **training, epochs=self.epochs)
        return compile_model(model, recipe, steps_per_epoch=-(-self.train_size // recipe.batch_size))

    def fit(self, hp, model, *args, **kwargs):
        """Fits through the training engine (`training.fit_model`: a new order each epoch, drawn
        from NumPy's generator, which the tuner seeds per trial) with the tuned batch size. A
        trial that diverged (the engine's `TrainingDiverged`, `tuner.py`), whose training loss
        rose or whose validation accuracy is at chance fails (`tuning.trial_check`)."""
        batch_size = self.declare(hp)[0]["batch_size"]
        history = fit_model(model, *args, batch_size=batch_size, **kwargs)
        check_trial(history.history, self.num_classes)
        return history


def declared_space(spec):
    """The model's own space: a `keras_tuner.HyperParameters` at its defaults."""
    hp = keras_tuner.HyperParameters()
    hyperparameters.declare(hp, spec)
    return hp


def restricted_space(spec, fixed, space):
    """The model's space with `fixed` values and `space` domains in place of its own, every
    value checked by the model's declaration before any trial runs."""
    for where, given in (("fixed", fixed), ("space", space)):
        if not isinstance(given, dict):
            raise UsageError(f"Expected {where} to be a dict of hyperparameters. Received: {where}={given!r}")
    both = sorted(set(fixed) & set(space))
    if both:
        raise UsageError(f"Expected each hyperparameter in fixed or in space, not both. Received: {both} in both")
    declared = declared_space(spec)
    names = [hp.name for hp in declared.space]
    users = {**{k: ("space", v) for k, v in space.items()}, **{k: ("fixed", v) for k, v in fixed.items()}}
    for name, (where, _) in users.items():
        if name not in names:
            raise UsageError(f"Unknown hyperparameter {name!r} in {where} for model {spec.name!r}. "
                             f"Expected one of {names}.")
    result = keras_tuner.HyperParameters()
    for hp in declared.space:  # in declaration order: a parent before its conditional children
        if hp.name in users:
            where, value = users[hp.name]
            hp = parse_domain(hp, value, fixed=where == "fixed")
            for candidate in _candidates(hp):
                _check_value(spec, declared, hp, candidate, where)
        result.merge([hp])
    return result


def parse_domain(declared, value, fixed=False):
    """The one reading of a user's domain for hyperparameter `declared` (a KerasTuner
    hyperparameter): with `fixed`, one value (`hp.Fixed`); else a tuple `(min, max)` is a range
    (for a `Float`), a list a set of choices. The result keeps `declared`'s conditions and its
    default (clipped to the range, or the closest choice)."""
    name, is_float = declared.name, isinstance(declared, _HP.Float)

    def number(v):
        # A Float's values are floats: JSON's 1 means 1.0 (KerasTuner would hand out the int 1).
        ok = is_float and not isinstance(v, bool) and isinstance(v, (int, float))
        return float(v) if ok else v

    conditions = declared.get_config()["conditions"]
    if fixed:
        value = [value]
    elif isinstance(value, tuple):
        if not is_float:
            raise UsageError(f"Expected space[{name!r}] to be a list of choices ({name} is not a "
                             f"continuous hyperparameter). Received: space[{name!r}]={value!r}")
        numbers = len(value) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                          and math.isfinite(v) for v in value)
        low, high = (float(v) for v in value) if numbers else (None, None)
        if not numbers or not low < high or (declared.sampling == "log" and low <= 0):
            raise UsageError(f"Expected space[{name!r}] = (min, max) with {'0 < ' * (declared.sampling == 'log')}"
                             f"min < max. Received: space[{name!r}]={value!r}")
        return _HP.Float.from_config({**declared.get_config(), "min_value": low, "max_value": high,
                                      "step": None, "default": min(max(declared.default, low), high)})
    if not isinstance(value, list) or not value:
        raise UsageError(f"Expected space[{name!r}] to be a non-empty list of values"
                         f"{' or a (min, max) range' if is_float else ''}. Received: space[{name!r}]={value!r}")
    try:  # KerasTuner's own checks: one number, string or bool (a Choice: of one type)
        values = list(dict.fromkeys(number(v) for v in value))
        if len(values) == 1:
            return _HP.Fixed.from_config({"name": name, "value": values[0], "conditions": conditions})
        default = min(values, key=lambda v: _distance(v, declared.default))
        return _HP.Choice.from_config({"name": name, "values": values, "default": default,
                                       "ordered": None, "conditions": conditions})
    except (TypeError, ValueError):
        where, value = ("fixed", value[0]) if fixed else ("space", value)
        raise UsageError(f"Expected {where}[{name!r}] to be a number, a string or a bool"
                         f"{'' if fixed else ' (all of one type)'}. Received: {where}[{name!r}]={value!r}") from None


def json_space(model_name, space):
    """`space` read from JSON, which has no tuples: a two-number list for a continuous
    (`Float`) hyperparameter is its `(min, max)` range; any other list stays a list of choices."""
    if not space:
        return space
    floats = {hp.name for hp in declared_space(models.get_spec(model_name)).space
              if isinstance(hp, _HP.Float)}
    return {k: tuple(v) if k in floats and isinstance(v, list) and len(v) == 2 else v
            for k, v in space.items()}


def _candidates(hp):
    """The values of a restricted hyperparameter worth checking: its bounds or its choices."""
    if isinstance(hp, _HP.Fixed):
        return [hp.value]
    if isinstance(hp, _HP.Float):
        return [hp.min_value, hp.max_value]
    return list(hp.values)


def _check_value(spec, declared, hp, value, where):
    """Runs the model's declaration with `hp` at `value` (its parents set so that it is
    active): the checks written beside each hyperparameter's declaration judge it."""
    probe = declared.copy()
    for condition in hp.conditions:
        probe.values[condition.name] = condition.values[0]
    probe.values[hp.name] = value
    probe.ensure_active_values()
    try:
        hyperparameters.declare(probe, spec)
    except (ValueError, TypeError) as e:
        raise UsageError(f"{e} (from {where}[{hp.name!r}])") from None


def _distance(a, b):
    if isinstance(a, bool) or isinstance(b, bool) or not all(isinstance(v, (int, float)) for v in (a, b)):
        return 0 if a == b else 1
    return abs(math.log(a / b)) if a > 0 and b > 0 else abs(a - b)
