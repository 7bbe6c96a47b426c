"""`SearchConfig`: everything a search is asked to do, checked once, with an exact JSON form.

The chief hands its config to every worker as JSON (`python -m keras_seminar.tuning.worker CONFIG_JSON`).
Plain JSON has no tuples, and in a search space a tuple is a range while a list is a set of
choices, so `to_json` tags tuples (`{"__tuple__": [...]}`) and `from_json` restores them:
`SearchConfig.from_json(config.to_json()) == config`, and a worker declares the very
hyperparameters the chief declared.

Example:
    >>> config = SearchConfig("softmax", space={"learning_rate": (1e-3, 1e-2)}, max_trials=4)
    >>> SearchConfig.from_json(config.to_json()) == config
    True
"""

import dataclasses
import json
import os

from keras_seminar import _validators as check
from keras_seminar import datasets, models
from keras_seminar.errors import UsageError

__all__ = ["SearchConfig", "TUNERS"]

TUNERS = ("bayesian", "hyperband", "random")
_TUPLE = "__tuple__"


@dataclasses.dataclass(frozen=True)
class SearchConfig:
    """What `search()` takes; see its docstring for each field.

    `project_name` None becomes `<model>_<dataset>_<tuner>_s<seed>`; it must be one folder name
    (letters, digits, `_ . -`), so a search never writes outside `directory`.
    """

    model_name: str = "cnn"
    dataset: str = "fashion_mnist"
    tuner: str = "bayesian"
    max_trials: int = 10
    epochs: int | None = None
    seed: int = 0
    directory: str = "tuning_runs"
    project_name: str | None = None
    train_limit: int | None = None
    val_limit: int | None = None
    validation_split: float = 0.1
    data_dir: str | None = None
    fixed: dict | None = None
    space: dict | None = None
    objective: str = "val_accuracy"
    workers: int = 0
    num_initial_points: int | None = None
    overwrite: bool = False
    verbose: int = 1

    def __post_init__(self):
        def put(name, value):  # frozen: normalised values are stored once, here
            object.__setattr__(self, name, value)

        models.get_spec(self.model_name)  # UsageError listing the zoo on unknown names
        check.check_choice("dataset", self.dataset, sorted(datasets.DATASETS))
        check.check_choice("tuner", self.tuner, TUNERS)
        put("max_trials", check.check_int("max_trials", self.max_trials, minimum=1))
        put("seed", check.check_int("seed", self.seed, minimum=0))
        put("workers", check.check_int("workers", self.workers, minimum=0))
        for name in ("epochs", "train_limit", "val_limit", "num_initial_points"):
            put(name, check.check_int(name, getattr(self, name), minimum=1, allow_none=True))
        put("validation_split", check.check_float("validation_split", self.validation_split,
                                                  low=0, high=1, low_open=True))
        if self.project_name is None:
            put("project_name", f"{self.model_name}_{self.dataset}_{self.tuner}_s{self.seed}")
        check.check_folder_name("project_name", self.project_name)  # the run-name rule
        put("directory", check.check_str("directory", self.directory))
        put("data_dir", check.check_str("data_dir", self.data_dir, allow_none=True))
        for name in ("fixed", "space"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, dict) and all(isinstance(k, str) for k in value)):
                raise UsageError(f"Expected {name} to be a dict of hyperparameter names. Received: {name}={value!r}")
        from keras_seminar.tuning.hypermodels import restricted_space

        restricted_space(models.get_spec(self.model_name), self.fixed or {}, self.space or {})
        check.check_str("objective", self.objective)
        put("overwrite", check.check_bool("overwrite", self.overwrite))
        if self.verbose not in (0, 1, 2) or isinstance(self.verbose, bool):
            raise UsageError(f"Expected verbose to be 0, 1 or 2. Received: verbose={self.verbose!r}")

    @property
    def project_dir(self):
        return os.path.join(self.directory, self.project_name)

    def for_worker(self):
        """The config a local worker runs: same search, absolute directory, no workers of its
        own, never overwriting (the chief already did), one line per epoch when verbose."""
        return dataclasses.replace(self, directory=os.path.abspath(self.directory), workers=0,
                                   overwrite=False, verbose=2 if self.verbose else 0)

    def to_json(self):
        """JSON text that `from_json` turns back into an equal config (tuples included)."""
        return json.dumps({f.name: _encode(getattr(self, f.name)) for f in dataclasses.fields(self)},
                          sort_keys=True)

    @classmethod
    def from_json(cls, text):
        """The config `to_json` wrote; `UsageError` for text that is not one."""
        try:
            record = json.loads(text, object_hook=_decode)
        except (TypeError, ValueError) as e:
            raise UsageError(f"Expected a SearchConfig as JSON text. Received: {str(text)[:80]!r} ({e})") from None
        if not isinstance(record, dict):
            raise UsageError(f"Expected a SearchConfig as a JSON object. Received: {record!r}")
        unknown = set(record) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise UsageError(f"Unknown SearchConfig fields {sorted(unknown)}.")
        return cls(**record)


def _encode(value):
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if _TUPLE in value:
            raise UsageError(f"Expected no key {_TUPLE!r} in a search config. Received: {value!r}")
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(obj):
    if set(obj) == {_TUPLE}:
        return tuple(obj[_TUPLE])  # inner tuples were decoded first (hooks run inside out)
    return obj
