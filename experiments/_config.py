"""Overriding any field of an experiment's `CONFIG` from the command line or a JSON file.

`--set epochs=40 --set train_limit=none --set depths=1,2,4` and `--config file.json` are parsed
to each field's declared type (`int`, `float`, `bool`, `str`, `tuple`, `dict`, `X | None`); an
unknown key is refused with one line naming it and the valid ones. The overrides are recorded
in the report beside the resolved config.
"""

import dataclasses
import json
import types
import typing

from keras_seminar.errors import UsageError

_NONE = ("none", "null")
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


def _fields(config):
    return {f.name: f for f in dataclasses.fields(config)}


def _types(field_type):
    """(allowed non-None types, whether None is allowed) of an annotation like `int | None`."""
    if isinstance(field_type, types.UnionType) or typing.get_origin(field_type) is typing.Union:
        args = typing.get_args(field_type)
        return [a for a in args if a is not type(None)], type(None) in args
    return [typing.get_origin(field_type) or field_type], False


def _parse_item(text):
    try:
        return json.loads(text)
    except ValueError:
        return text.strip()


def _coerce(key, value, kind):
    """`value` (a string from --set, or a JSON value) as `kind`; raises ValueError when it is not."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
    elif kind is int:
        if isinstance(value, str):
            return int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, str):
            return float(value.strip())
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif kind is str:
        if isinstance(value, str):
            return value
    elif kind in (tuple, list):
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else [_parse_item(t) for t in text.split(",") if t.strip()]
        if isinstance(value, (list, tuple)):
            return tuple(value)
    elif kind is dict:
        value = json.loads(value) if isinstance(value, str) else value
        if isinstance(value, dict):
            return {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
    raise ValueError(f"not a {kind.__name__}")


def coerce(config, key, value):
    """`value` converted to the type of `config`'s field `key`; raises `UsageError` when it fails."""
    fields = _fields(config)
    if key not in fields:
        raise UsageError(f"Unknown config key {key!r} for {type(config).__module__.rsplit('.', 1)[-1]}. "
                         f"Valid keys: {', '.join(fields)}.")
    kinds, nullable = _types(fields[key].type)
    if value is None or (isinstance(value, str) and value.strip().lower() in _NONE):
        if nullable:
            return None
        raise UsageError(f"Expected a value for {key!r} ({' or '.join(k.__name__ for k in kinds)}). "
                         f"Received: {key}={value!r}")
    for kind in kinds:
        try:
            return _coerce(key, value, kind)
        except (ValueError, TypeError):
            continue
    expected = " or ".join(k.__name__ for k in kinds) + (" or none" if nullable else "")
    raise UsageError(f"Expected {key} to be {expected}. Received: {key}={value!r}")


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
    except (OSError, ValueError) as e:
        raise UsageError(f"Cannot read --config {path}: {e}") from e
    if not isinstance(values, dict):
        raise UsageError(f"Expected --config {path} to hold a JSON object. Received: {type(values).__name__}")
    return values


def apply(config, sets=(), config_file=None):
    """`(config with the overrides, {key: parsed value})`: the file first, then each `--set`."""
    raw = {**(read_config_file(config_file) if config_file else {}), **parse_sets(sets)}
    overrides = {key: coerce(config, key, value) for key, value in raw.items()}
    return dataclasses.replace(config, **overrides), overrides


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
