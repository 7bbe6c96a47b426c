"""The one set of argument validators: each checks one value and returns it normalised.

Every check raises `keras_seminar.errors.UsageError` (a `ValueError`) whose message names the
argument and says what was expected and what came, the Keras way:
`Expected epochs to be a positive integer. Received: epochs=0`. NumPy scalars count as the
Python numbers they hold (`np.int64(3)` is an integer, `np.float32(0.1)` a float).

Example:
    >>> epochs = check_int("epochs", np.int64(3), minimum=1)  # -> 3 (a Python int)
"""

import math
import numbers
import os
import re

from keras_seminar.errors import UsageError


def _received(name, value):
    return f"Received: {name}={value!r}"


def check_int(name, value, minimum=None, allow_none=False):
    """An integer (Python or NumPy, never a bool) >= `minimum`, returned as a Python int."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (
            minimum is not None and value < minimum):
        what = {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}")
        raise UsageError(f"Expected {name} to be {what}. {_received(name, value)}")
    return int(value)


def check_float(name, value, low=None, high=None, low_open=False, allow_none=False):
    """A finite real number in [low, high] ((low, high] with `low_open`), as a Python float."""
    if value is None and allow_none:
        return None
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        lo = "" if low is None else f"{'(' if low_open else '['}{low}, "
        hi = "inf)" if high is None else f"{high}]"
        where = f" in {lo}{hi}" if lo else ("" if high is None else f" <= {high}")
        raise UsageError(f"Expected {name} to be a finite number{where}. {_received(name, value)}")
    return float(value)


def check_bool(name, value, allow_none=False):
    """True or False (NumPy bools too), returned as a Python bool."""
    if value is None and allow_none:
        return None
    if type(value).__name__ not in ("bool", "bool_"):
        raise UsageError(f"Expected {name} to be True or False. {_received(name, value)}")
    return bool(value)


def check_choice(name, value, choices):
    """One of `choices` (the owning module's list, never a copy)."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise UsageError(f"Unknown {name} {value!r}. Expected one of {list(choices)}.")
    return value


def check_names(name, values, choices):
    """A tuple of names from `choices`, given as a tuple/list or a comma-separated string."""
    if isinstance(values, str):
        values = [v.strip() for v in values.split(",") if v.strip()]
    if not isinstance(values, (list, tuple)):
        raise UsageError(f"Expected {name} to be a list of names. {_received(name, values)}")
    return tuple(check_choice(name, v, choices) for v in values)


def check_str(name, value, allow_none=False):
    """A non-empty string or os.PathLike, returned as str."""
    if value is None and allow_none:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value:
        raise UsageError(f"Expected {name} to be a non-empty path or name. {_received(name, value)}")
    return value


_FOLDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def check_folder_name(name, value):
    """A name that is safe as one path component (a run name, a tuning project name): letters,
    digits, '_', '.', '-', starting with a letter or digit, at most 128 characters, so it can
    never climb out of its parent folder (`../x`) or hide (`.x`)."""
    if not isinstance(value, str) or not _FOLDER_NAME.match(value):
        raise UsageError(f"Expected {name} of letters, digits, '_', '.', '-' (starting with a "
                         f"letter or digit). {_received(name, value)}")
    return value


def check_instances(name, values, cls, what):
    """A list of `cls` instances (a tuple or list; a single instance is refused)."""
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, cls) for v in values):
        raise UsageError(f"Expected {name} to be a list of {what}. {_received(name, values)}")
    return list(values)


def check_dir(name, path, writable=True):
    """A folder that is, or can be created as, a directory we may write to. Checked before any
    long work starts, so a typo costs seconds, not a training run."""
    path = check_str(name, path)
    probe = os.path.abspath(path)
    while not os.path.exists(probe):  # the nearest existing ancestor decides
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        raise UsageError(f"Expected {name} to be a directory, but {probe!r} is a file. "
                         f"{_received(name, path)}")
    if writable and not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"Expected {name} to be a writable directory; {probe!r} is not writable "
                         f"(check its permissions or pick another folder). {_received(name, path)}")
    return path


def check_range(name, value, allow_none=True):
    """A pair `(low, high)` of finite numbers with low < high, returned as two floats."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(
        not isinstance(x, bool) and isinstance(x, numbers.Real) and math.isfinite(x) for x in value)
    if not ok or not value[0] < value[1]:
        raise UsageError(f"Expected {name} to be a pair (low, high) of finite numbers with "
                         f"low < high. {_received(name, value)}")
    return float(value[0]), float(value[1])
