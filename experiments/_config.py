"""An experiment's config: each field's declared type and range, and overrides from the command line.

A `Config` dataclass declares every field's type, the type of a tuple's items and the values
allowed, with the annotations below:

    depths: tuple[Count, ...] = (1, 2, 4)     # a non-empty tuple of integers >= 1
    train_limit: Count | None = None          # an integer >= 1, or None
    learning_rate: Positive = 1e-3            # a number > 0
    datasets: tuple[Dataset, ...] = ("mnist",)

`--set epochs=40 --set train_limit=none --set depths=1,2,4` and `--config file.json` are parsed
to those types; then `validate` checks every field, overridden or not, before anything trains:
a bad one is one `UsageError` line naming the key, the value and what is allowed. The overrides
are recorded in the report beside the resolved config.
"""

import dataclasses
import json
import math
import numbers
import types
import typing
from typing import Annotated

from keras_seminar.errors import UsageError

_NONE = ("none", "null")
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


@dataclasses.dataclass(frozen=True)
class Range:
    """The numbers a field allows: `low <= x <= high` (an open end excludes its bound)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def allows(self, x):
        return ((self.low is None or (x > self.low if self.low_open else x >= self.low))
                and (self.high is None or (x < self.high if self.high_open else x <= self.high)))

    def __str__(self):
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"


@dataclasses.dataclass(frozen=True)
class OneOf:
    """The strings a field allows."""

    values: tuple

    def allows(self, x):
        return x in self.values

    def __str__(self):
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclasses.dataclass(frozen=True)
class Length:
    """The number of items a tuple field must have."""

    n: int

    def allows(self, x):
        return len(x) == self.n

    def __str__(self):
        return f"of {self.n} items"


@dataclasses.dataclass(frozen=True)
class Includes:
    """An item a tuple field must hold (e.g. the control every other arm is compared with)."""

    item: str
    why: str = ""

    def allows(self, x):
        return self.item in x

    def __str__(self):
        return f"(it must include {self.item!r}{': ' + self.why if self.why else ''})"


Count = Annotated[int, Range(1)]                 # 1, 2, 3, ...
Natural = Annotated[int, Range(0)]               # 0, 1, 2, ...
Positive = Annotated[float, Range(0, low_open=True)]
NonNegative = Annotated[float, Range(0)]
Fraction = Annotated[float, Range(0, 1)]
Dataset = Annotated[str, OneOf(("mnist", "fashion_mnist"))]


def one_of(*values):
    """The annotation of a string field that allows `values` only."""
    return Annotated[str, OneOf(tuple(values))]


def _parts(annotation):
    """`(origin, item annotations, constraints, nullable)` of an annotation like `tuple[Count, ...] | None`."""
    nullable = False
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable, annotation = len(args) < len(typing.get_args(annotation)), args[0]
    constraints = ()
    while typing.get_origin(annotation) is Annotated:
        constraints, annotation = constraints + annotation.__metadata__, annotation.__origin__
    origin = typing.get_origin(annotation) or annotation
    items = tuple(a for a in typing.get_args(annotation) if a is not Ellipsis)
    return origin, items, constraints, nullable


_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def describe(annotation):
    """What `annotation` allows, in words: "a non-empty tuple, each an integer >= 1"."""
    origin, items, constraints, nullable = _parts(annotation)
    if origin in (tuple, list):
        text = "a non-empty tuple" + (f", each {describe(items[0])}" if items else "")
    elif origin is dict:
        text = (f"a JSON object, each key {describe(items[0])} and each value {describe(items[1])}" if items
                else "a JSON object of numbers, strings and flat lists")
    else:
        text = _NAMES.get(origin, getattr(origin, "__name__", str(origin)))
    named = [c for c in constraints if isinstance(c, OneOf)]  # "one of 'a', 'b'" says the type too
    text = " ".join([*([] if named else [text]), *(str(c) for c in constraints)])
    return text + (" or none" if nullable else "")


def _scalar(value):
    return value is None or isinstance(value, (bool, int, float, str))


def allowed(value, annotation):
    """Whether `value` has the type, item types and range `annotation` declares."""
    origin, items, constraints, nullable = _parts(annotation)
    if value is None:
        return nullable
    if origin is bool:
        ok = isinstance(value, bool)
    elif origin is int:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    elif origin is float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    elif origin is str:
        ok = isinstance(value, str)
    elif origin in (tuple, list):
        ok = isinstance(value, (tuple, list)) and len(value) > 0 and all(
            allowed(v, items[0]) if items else _scalar(v) for v in value)
    elif origin is dict:
        ok = isinstance(value, dict) and all(
            allowed(k, items[0]) and allowed(v, items[1]) if items else isinstance(k, str) and (
                _scalar(v) or isinstance(v, (list, tuple)) and all(_scalar(x) for x in v))
            for k, v in value.items())
    else:
        ok = isinstance(value, origin)
    return ok and all(c.allows(value) for c in constraints)


def _shown(value, limit=120):
    """`repr(value)`, cut to `limit` characters (a hostile value may be huge or deeply nested)."""
    try:
        text = repr(value)
    except RecursionError:
        return "<a value nested too deeply>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_field(key, value, annotation):
    """Raises `UsageError` naming `key`, `value` and what is allowed, unless `value` fits `annotation`."""
    if not allowed(value, annotation):
        raise UsageError(f"Expected {key} to be {describe(annotation)}. Received: {key}={_shown(value)}")
    return value


def validate(config):
    """`config` if every field has its declared type, item type and range, else a `UsageError`."""
    for field in dataclasses.fields(config):
        check_field(field.name, getattr(config, field.name), field.type)
    return config


def _loads(text):
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text.strip()


def _parse(value, annotation):
    """`value` (a `--set` string or a JSON value) converted towards `annotation`; a value that
    does not convert is returned as it is, for `check_field` to refuse with the field's name."""
    origin, items, _, nullable = _parts(annotation)
    if isinstance(value, str) and value.strip().lower() in _NONE and nullable:
        return None
    if origin is bool and isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    if origin in (int, float) and isinstance(value, str):
        parsed = _loads(value)
        value = parsed if isinstance(parsed, (int, float)) and not isinstance(parsed, bool) else value
    if origin is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if origin in (tuple, list):
        if isinstance(value, str):
            text = value.strip()
            value = _loads(text) if text.startswith("[") else [_loads(t) for t in text.split(",") if t.strip()]
        if isinstance(value, list | tuple):
            return tuple(_parse(v, items[0]) if items else v for v in value)
    if origin is dict:
        value = _loads(value) if isinstance(value, str) else value
        if isinstance(value, dict):
            return {k: _parse(v, items[1]) if items else tuple(v) if isinstance(v, list) else v
                    for k, v in value.items()}
    return value


def coerce(config, key, value):
    """`value` converted to the type of `config`'s field `key` and checked; raises `UsageError`."""
    fields = {f.name: f for f in dataclasses.fields(config)}
    if key not in fields:
        raise UsageError(f"Unknown config key {key!r} for {type(config).__module__.rsplit('.', 1)[-1]}. "
                         f"Valid keys: {', '.join(fields)}.")
    return check_field(key, _parse(value, fields[key].type), fields[key].type)


def parse_sets(items):
    """`["epochs=40", "train_limit=none"]` -> `{"epochs": "40", "train_limit": "none"}` (in order)."""
    pairs = {}
    for item in items or ():
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise UsageError(f"Expected --set KEY=VALUE. Received: {item!r}")
        pairs[key.strip()] = value
    return pairs


def read_config_file(path):
    """The JSON object in `path` (`--config`), as `{key: value}`."""
    try:
        with open(path) as f:
            values = json.load(f)
    except RecursionError as e:
        raise UsageError(f"Cannot read --config {path}: its JSON is nested too deeply.") from e
    except (OSError, ValueError) as e:
        raise UsageError(f"Cannot read --config {path}: {e}") from e
    if not isinstance(values, dict):
        raise UsageError(f"Expected --config {path} to hold a JSON object. Received: {type(values).__name__}")
    return values


def apply(config, sets=(), config_file=None):
    """`(config with the overrides, {key: parsed value})`: the file first, then each `--set`;
    every field of the result, overridden or not, is validated."""
    raw = {**(read_config_file(config_file) if config_file else {}), **parse_sets(sets)}
    overrides = {key: coerce(config, key, value) for key, value in raw.items()}
    return validate(dataclasses.replace(config, **overrides)), overrides


def from_dict(config, values):
    """A config of `config`'s type from `values` (a results file's `"config"`): lists become
    tuples, a field the file lacks keeps `config`'s value; then validated."""
    known = {f.name: f.type for f in dataclasses.fields(config)}
    parsed = {k: _parse(v, known[k]) for k, v in values.items() if k in known}
    return validate(dataclasses.replace(config, **parsed))


def jsonable(value):
    """A config value as JSON (tuples as lists, Keras objects by their repr)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def as_dict(config):
    return {f.name: jsonable(getattr(config, f.name)) for f in dataclasses.fields(config)}
