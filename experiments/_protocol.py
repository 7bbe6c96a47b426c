"""The experiment protocol: one class per seminar question, registered in the file that defines it.

An experiment is one file: a commented `Config` dataclass (the full scale, each field's type and
range declared with `_config`'s annotations) and an `Experiment` subclass decorated with
`@register`, which overrides the hooks it needs (each is documented below; the defaults do
nothing or the usual thing):

    @register
    class Depth(Experiment):
        name = "depth"
        title = "Depth at equal parameter count"
        question = "At the same number of parameters, do 2-4 narrower layers beat one wide one?"
        config = Config()                          # the full scale
        smoke = {"max_epochs": 2, "seeds": 2}      # overrides for the CI-sized variant
        headline = ("test_accuracy",)              # the number printed as each run finishes

        def arms(self, config):
            return [{"depth": d} for d in config.depths]

        def run_arm(self, config, arm, seed, data):
            model = _runner.build_mlp(seed, hidden=(64,) * arm["depth"])
            _runner.fit(model, data, seed, epochs=config.max_epochs)
            return {"test_accuracy": _runner.accuracy(model, data.x_test, data.y_test)}

        def render(self, config, results, report):
            report.table(["depth", "test accuracy"], ...)

`keras-seminar experiment depth` then validates the config, runs every `(arm, seed)` of `plan`
that its partial file does not hold yet (saving each record as it comes, so a killed run
resumes), and draws the report with `render`, which gets the same `Config` type the runs got,
rebuilt from the results JSON (`--render` redraws it without training).
"""

import dataclasses
import importlib
import pkgutil

from keras_seminar.experiments import _config, _runner

from keras_seminar.errors import UsageError

_REGISTRY = {}


class Experiment:
    """Base class of an experiment: settings as class attributes, behaviour as hooks.

    Attributes:
        name: the command-line name (`keras-seminar experiment NAME`) and the results' file name.
        title, question: the report's heading and the question it answers.
        config: the full-scale `Config` instance.
        smoke: `{field: value}` overrides of `config` for the variant CI runs in seconds.
        headline: record keys tried in order for the one number the progress line shows.
    """

    name = None
    title = ""
    question = ""
    config = None
    smoke = {}
    headline = ()

    def __init__(self):
        self.runs, self._shared = None, {}

    def check(self, config):
        """Checks between fields, beyond each field's declared type and range (which `_config`
        checks first); raises `UsageError`. Default: nothing more to check."""

    def arms(self, config):
        """The arms, each a dict of JSON values naming what differs between runs, in order.
        Default: none."""
        return []

    def plan(self, config, seeds):
        """Every `(arm, seed)` to run, in order. Default: seed by seed, every arm of each (a
        finished seed is a complete paired comparison). May look at `self.runs` (the records
        so far) as it goes, e.g. to name the setting a sweep chose."""
        for seed in seeds:
            for arm in self.arms(config):
                yield arm, seed

    def sweep_plan(self, groups, arms, candidates, seeds):
        """A plan that picks each arm's setting on seed 0 before the seeds run it: per group (a dict,
        e.g. `{"dataset": "mnist"}`), every arm's sweep runs (`sweep_arm`, one per candidate of
        `candidates(arm)`) on seed 0, then each seed's arms `{"phase": "main", **group, **arm}`, whose
        `run_arm` asks `chosen` for the setting. An arm with one candidate has nothing to choose
        and no sweep run. For `plan` to return; yields `(arm, seed)`."""
        for group in groups:
            main = [{"phase": "main", **group, **arm} for arm in arms]
            for arm in main:
                if len(options := candidates(arm)) > 1:
                    yield from ((self.sweep_arm(arm, candidate), 0) for candidate in options)
            for seed in seeds:
                yield from ((arm, seed) for arm in main)

    @staticmethod
    def sweep_arm(arm, candidate):
        """The sweep run of `arm` (its main or a sweep arm) that tries `candidate` (a dict of settings)."""
        return {**arm, "phase": "sweep", **candidate}

    def chosen(self, arm, candidates, key):
        """The first of `candidates` whose sweep run of `arm` (seed 0, in `self.runs`) has the highest
        `key`; a lone candidate is chosen without a sweep."""
        if len(candidates) == 1:
            return candidates[0]
        scores = [self.runs.get(self.sweep_arm(arm, candidate), 0)[key] for candidate in candidates]
        return candidates[scores.index(max(scores))]

    def total(self, config, seeds):
        """How many runs `plan` makes (for `k/N` and the ETA). Default: counts `plan`."""
        return len(list(self.plan(config, seeds)))

    def data(self, config, arm, seed):
        """What `run_arm` trains on. Default: `seed`'s split of the arm's "dataset" (else
        `config.dataset`), limited by `config.train_limit` / `config.test_limit`; consecutive
        runs of one data set and seed share it."""
        dataset = arm["dataset"] if "dataset" in arm else config.dataset
        return self.shared("data", (dataset, seed), lambda: _runner.load(
            dataset, seed, config.train_limit, test_limit=config.test_limit))

    def shared(self, name, key, make):
        """`make()`, made once for consecutive runs that ask for `name` with the same `key` (a
        seed's data, a model every arm of a seed attacks); one per `name`, forgotten at each `run`."""
        if name not in self._shared or self._shared[name][0] != key:
            self._shared[name] = (key, make())
        return self._shared[name][1]

    def run_arm(self, config, arm, seed, data):
        """Trains and measures one run; returns its record's values (JSON-able). Required."""
        raise NotImplementedError(f"Experiment {self.name!r} does not define run_arm.")

    def summary(self, config):
        """Results beside the runs (e.g. a setting a sweep chose), saved in NAME.json. Default: none."""
        return {}

    def render(self, config, results, report):
        """Draws the report from `results` (the JSON: `results["runs"]` holds every record) into
        `report` (`_report.Report`). Default: no tables or figures, the evidence only."""

    def run(self, config, seeds, runs):
        """Runs every `(arm, seed)` of `plan` that `runs` does not hold yet, adding each record."""
        self.runs, self._shared = runs, {}
        for arm, seed in self.plan(config, seeds):
            if runs.get(arm, seed) is None:
                runs.add(arm, seed, **self.run_arm(config, arm, seed, self.data(config, arm, seed)))
        return self.summary(config)

    def config_for(self, scale):
        """The config of `scale` ("full" or "smoke")."""
        return self.config if scale == "full" else dataclasses.replace(self.config, **self.smoke)

    def config_from(self, values):
        """The `Config` of a results file's `"config"` dict (lists as tuples), validated."""
        return _config.from_dict(self.config, values)


def register(cls):
    """Class decorator: makes `cls` (an `Experiment` subclass) runnable by its `name`."""
    if not (isinstance(cls, type) and issubclass(cls, Experiment)) or not isinstance(cls.name, str):
        raise TypeError(f"Expected an Experiment subclass with a name. Received: {cls!r}")
    if not dataclasses.is_dataclass(cls.config):
        raise TypeError(f"Expected {cls.__name__}.config to be a Config dataclass instance. "
                        f"Received: {cls.config!r}")
    _config.validate(cls.config)
    _config.validate(dataclasses.replace(cls.config, **cls.smoke))
    _REGISTRY[cls.name] = cls()
    return cls


def _modules():
    import keras_seminar.experiments as package

    return [m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")]


def names():
    """Every registered experiment's name (imports each public module of the package once)."""
    for module in _modules():
        importlib.import_module(f"keras_seminar.experiments.{module}")
    return sorted(_REGISTRY)


def get(name):
    """The registered experiment called `name` (hyphens or underscores)."""
    key = str(name).replace("-", "_")
    if key not in _REGISTRY and key in _modules():
        importlib.import_module(f"keras_seminar.experiments.{key}")
    if key not in _REGISTRY:
        raise UsageError(f"Unknown experiment {name!r}. Expected one of {names()}.")
    return _REGISTRY[key]
