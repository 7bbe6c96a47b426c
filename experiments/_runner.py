"""What every experiment shares: resolving the config, data per seed, the one fit path, results.

An experiment module defines `TITLE`, `QUESTION`, a commented `CONFIG` (a dataclass; the full
scale) and a `SMOKE` variant that CI runs in seconds, plus either
- `run(config, seeds, runs) -> dict` and `render(results, report)`: results first (every seed's
  numbers, saved to `<out>/<name>.json` after each run, so a killed run resumes), then the
  Markdown and PNGs drawn from that JSON alone (`--render` redraws them without training); or
- (older experiments) `run(config, report, seeds)`, which fills the report while it trains.

Every model trains through `keras_seminar.training.fit_arrays` (the path `keras-seminar train`
uses); a seed sets the train/validation split, the order of the training data and the weights.
"""

import dataclasses
import datetime
import functools
import importlib
import json
import os
import sys
import time

import keras
import numpy as np
from keras_seminar.experiments import _config
from keras_seminar.experiments._report import Report

from keras_seminar import _io, datasets, models, saving
from keras_seminar.backend import device_description
from keras_seminar.errors import UsageError
from keras_seminar.training import fit_arrays, images_to_inputs, recipe_for, test_metrics
from keras_seminar.training.plan import default_steps_per_execution

EXPERIMENTS = ("positivity", "sparsity", "robustness", "gradient_norms", "information_plane",
               "depth", "receptive_fields", "game_of_life", "dropconnect", "schedules",
               "stochastic_rounding")
SCALES = ("full", "smoke")
VALIDATION_SPLIT = 0.1  # 60k -> 54k train / 6k validation


@dataclasses.dataclass(frozen=True)
class Data:
    """One seed's arrays: float32 images (N, 28, 28, 1) in [0, 1] and int labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def validation(self):
        return (self.x_val, self.y_val)


@functools.lru_cache(maxsize=2)
def _dataset(name, seed):
    return datasets.load(name, validation_split=VALIDATION_SPLIT, seed=seed, download=False)


def load(name, seed=0, train_limit=None, val_limit=None, test_limit=None):
    """The data of one seed: its own stratified 54k/6k split and a seeded order of the training
    set (`train_limit` takes a random slice, all classes); the test set is the same for all."""
    d = _dataset(name, int(seed))
    idx = np.random.default_rng(seed).permutation(len(d.x_train))[:train_limit]
    return Data(images_to_inputs(d.x_train[idx]), d.y_train[idx], images_to_inputs(d.x_val[:val_limit]),
                d.y_val[:val_limit], images_to_inputs(d.x_test[:test_limit]), d.y_test[:test_limit])


def test_subset(data, limit, seed):
    """`(x, y)`: the whole test set, or a seeded random `limit`-image subset of it (attacks)."""
    if limit is None or limit >= len(data.y_test):
        return data.x_test, data.y_test
    idx = np.sort(np.random.default_rng(1000 + seed).choice(len(data.y_test), limit, replace=False))
    return data.x_test[idx], data.y_test[idx]


def build_mlp(seed, **options):
    """The zoo's `mlp` (Flatten - Dense x len(hidden) - Dense - softmax), weights drawn from `seed`."""
    keras.utils.set_random_seed(seed)
    return models.build_model("mlp", **options)


def fit(model, data, seed, validation=True, callbacks=(), model_name="mlp",
        steps_per_execution=None, **recipe):
    """Trains `model` on `data` with `model_name`'s recipe and the `recipe` overrides (epochs,
    learning_rate, batch_size, ...) through `training.fit_arrays`; returns the history dict.
    Callbacks see every `steps_per_execution`-th step (1 for per-step measurements; None: the
    package's default for this backend, 16 on TensorFlow)."""
    history = fit_arrays(model, recipe_for(model_name, **recipe), data.x_train, data.y_train,
                         validation_data=data.validation if validation else None,
                         callbacks=list(callbacks), seed=seed,
                         steps_per_execution=steps_per_execution or default_steps_per_execution())
    return {k: [float(v) for v in vs] for k, vs in history.history.items()}


def pending(runs, seeds, arms, load):
    """`(seed, arm, data)` for every arm (a dict) of every seed that `runs` does not hold yet,
    seed by seed (each finished seed is a complete paired comparison); `load(seed)` is called
    once per seed, and only when one of its arms is still to run."""
    for seed in seeds:
        data = None
        for arm in arms:
            if runs.get(arm, seed):
                continue
            data = data or load(seed)
            yield seed, arm, data


def early_stopping(patience):
    """Stops when the validation loss has not improved for `patience` epochs; keeps the best weights."""
    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)


def accuracy(model, x, y):
    return test_metrics(model, x, y)["accuracy"]


def kernels(model):
    """`{layer name: kernel as NumPy}` for every layer with a kernel."""
    return {layer.name: keras.ops.convert_to_numpy(layer.kernel) for layer in model.layers
            if getattr(layer, "kernel", None) is not None}


class Runs:
    """Every run's record (`{"arm": {...}, "seed": s, ...}`), saved to `path` after each one.

    A run killed half-way resumes: records of the same config and seeds are read back and their
    runs skipped.
    """

    def __init__(self, path, fingerprint, meta=None):
        self.path, self.fingerprint, self.meta, self.records = path, fingerprint, meta or {}, []
        if path and os.path.exists(path):
            with open(path) as f:
                saved = json.load(f)
            if saved.get("fingerprint") == fingerprint and saved["records"]:
                self.records = saved["records"]
                # A resumed run's own start and wall time cover only its part: say which part.
                earlier = saved.get("meta", {})
                self.meta["resumed"] = {"runs": len(self.records), "first_started": earlier.get(
                    "resumed", {}).get("first_started", earlier.get("started", "unknown"))}

    @staticmethod
    def _key(arm, seed):
        return json.dumps(arm, sort_keys=True), seed

    def get(self, arm, seed):
        for r in self.records:
            if self._key(r["arm"], r["seed"]) == self._key(_config.jsonable(arm), seed):
                return r
        return None

    def add(self, arm, seed, **values):
        record = {"arm": _config.jsonable(arm), "seed": seed, **_config.jsonable(values)}
        self.records.append(record)
        if self.path:
            _io.atomic_write_json(self.path, {"fingerprint": self.fingerprint, "meta": self.meta,
                                              "records": self.records})
        return record


def resolve(name):
    """The experiment module for `name` (hyphens or underscores)."""
    key = str(name).replace("-", "_")
    if key not in EXPERIMENTS:
        raise UsageError(f"Unknown experiment {name!r}. Expected one of {list(EXPERIMENTS)}.")
    return importlib.import_module(f"keras_seminar.experiments.{key}")


def plan(name, scale="full", seeds=None, sets=(), config_file=None):
    """`(module, config, overrides, seeds)`: the config resolved once from scale and overrides."""
    if scale not in SCALES:
        raise UsageError(f"Unknown scale {scale!r}. Expected one of {SCALES}.")
    module = resolve(name)
    config, overrides = _config.apply(module.SMOKE if scale == "smoke" else module.CONFIG, sets, config_file)
    if seeds is not None:
        config = dataclasses.replace(config, seeds=seeds)
        overrides["seeds"] = seeds
    n = config.seeds
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise UsageError(f"Expected seeds to be a positive integer. Received: seeds={n!r}")
    return module, config, overrides, list(range(n))


# How the training set is ordered across epochs: since 2026-12-04 every fit reshuffles each epoch
# on every backend (`backend.fit_reshuffled`); before, a seeded TensorFlow run replayed one
# permutation every epoch (tensorflow/tensorflow#26179), and its report says so (`_report`).
EPOCH_ORDER = "reshuffled each epoch"


def run_experiment(name, scale="full", seeds=None, sets=(), config_file=None, out=None, smoke=False):
    """Runs experiment `name`, writes `<out>/<name>.json` (results-first experiments) and
    `<out>/<name>.md` with its PNGs; returns the Markdown path. `smoke=True` is `scale="smoke"`."""
    scale = "smoke" if smoke else scale
    module, config, overrides, seeds = plan(name, scale, seeds, sets, config_file)
    key = module.__name__.rsplit(".", 1)[-1]
    out = str(out or ("reports" if scale == "full" else os.path.join("runs", "smoke_reports")))
    results = {"experiment": key, "title": module.TITLE, "question": module.QUESTION, "scale": scale,
               "seeds": seeds, "config": _config.as_dict(config), "overrides": _config.jsonable(overrides),
               "command": _command(), "device": device_description(), "environment": saving.environment(),
               "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "epoch_order": EPOCH_ORDER}
    start = time.perf_counter()
    if not hasattr(module, "render"):  # an older experiment: it writes its report as it trains
        if getattr(config, "scale", None):  # its own size, which is not the 54k/10k of "full"
            results["scale"] = f"{scale} (this experiment's config: {config.scale})"
        report = Report(key, out)
        module.run(config, report, seeds)
        return report.write({**results, "wall_seconds": time.perf_counter() - start})
    partial = os.path.join(out, f"{key}.partial.json")
    fingerprint = {k: results[k] for k in ("config", "seeds")} | {"backend": results["environment"]["backend"]}
    if fingerprint["backend"] == "tensorflow":  # runs made before the fix below are not resumed into new ones
        fingerprint["epoch_order"] = EPOCH_ORDER
    with _io.FileLock(os.path.join(out, key)):  # a second run into the same folder is refused
        runs = Runs(partial, fingerprint, meta=results)
        results.update(module.run(config, seeds, runs))
        results["runs"] = runs.records
        results["wall_seconds"] = round(time.perf_counter() - start, 1)
        _io.atomic_write_json(os.path.join(out, f"{key}.json"), results)
        if os.path.exists(partial):
            os.remove(partial)
        return render(key, out)


def render(name, out="reports"):
    """Redraws `<out>/<name>.md` and its PNGs from `<out>/<name>.json`, without training.

    Without a finished `<name>.json`, a run still in progress (or killed) is drawn from its
    `<name>.partial.json`, and the report says loudly that it is incomplete.
    """
    module = resolve(name)
    key = module.__name__.rsplit(".", 1)[-1]
    path = os.path.join(str(out), f"{key}.json")
    if not hasattr(module, "render"):
        raise UsageError(f"Experiment {key!r} writes its report while it trains; it has no --render.")
    partial = os.path.join(str(out), f"{key}.partial.json")
    if os.path.exists(path):
        with open(path) as f:
            results = json.load(f)
    elif os.path.exists(partial):
        with open(partial) as f:
            saved = json.load(f)
        results = {**saved["meta"], "runs": saved["records"], "incomplete": True}
    else:
        raise UsageError(f"No results to render: {path} does not exist. Run the experiment first.")
    report = Report(key, out)
    module.render(results, report)
    return report.write(results)


def _command():
    argv = sys.argv
    if argv and os.path.basename(argv[0]) in ("keras-seminar", "__main__.py"):
        prefix = f"KERAS_BACKEND={keras.backend.backend()} "
        return prefix + "keras-seminar " + " ".join(argv[1:])
    return " ".join(argv)
