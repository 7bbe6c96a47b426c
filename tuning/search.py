"""`search()`: a resumable KerasTuner search over one zoo model on the real data.

Re-running the same call (same `directory` / `project_name`) resumes: KerasTuner reloads the
oracle with `overwrite=False`, keeps every completed trial and re-runs the one that was cut
off. Oracle and trial state are written atomically here (KerasTuner writes them in place, so a
kill during a write would leave a truncated `oracle.json` that cannot be reloaded).

A trial whose loss becomes NaN or inf is FAILED (`DivergenceGuard` raises
`keras_tuner.errors.FailedTrialError`), and a non-finite objective is never scored: the
Bayesian oracle would otherwise turn it into 0 (`np.nan_to_num`) and model it as a result.

Outputs in `<directory>/<project_name>/`: `best_hyperparameters.json`, `trials.csv`,
`best_model.keras` (+ its model card `best_model.json`), `tensorboard/<trial_id>` (HParams).

Example:
    >>> from tuning.search import search
    >>> result = search("cnn", "fashion_mnist", max_trials=20, epochs=3)
    >>> result["best"]["hyperparameters"]
"""

import csv
import io
import json
import math
import os
import time
import warnings

import keras
import keras_tuner

from keras_seminar import datasets, saving
from keras_seminar.training import images_to_inputs
from tuning import distributed, hparams
from tuning.hypermodels import ZooHyperModel

ORACLES = {"bayesian": keras_tuner.oracles.BayesianOptimizationOracle,
           "random": keras_tuner.oracles.RandomSearchOracle,
           "hyperband": keras_tuner.oracles.HyperbandOracle}


def write_text(path, text):
    """Writes `text` to `path` atomically (a temporary file renamed into place)."""
    tmp = f"{path}.partial"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class DivergenceGuard(keras.callbacks.Callback):
    """Fails the trial on the first NaN/inf loss, so KerasTuner marks it FAILED, not best."""

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _check(self, logs, where):
        for key in ("loss", "val_loss"):
            value = (logs or {}).get(key)
            if value is not None and not math.isfinite(float(value)):
                raise keras_tuner.errors.FailedTrialError(
                    f"Diverged: {key}={float(value)} at epoch {getattr(self, '_epoch', 0) + 1}, {where}.")

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs, f"batch {batch}")

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs, "epoch end")


class GuardedOracle:
    """Oracle mixin: non-finite scores fail the trial; state files are written atomically;
    the tuner that ran each trial is remembered (for the distributed report)."""

    def score_trial(self, trial):
        super().score_trial(trial)
        if trial.score is not None and not math.isfinite(trial.score):
            # `Oracle.end_trial` marks a NaN score INVALID, then FAILED once out of retries.
            trial.score = float("nan")

    def create_trial(self, tuner_id):
        trial = super().create_trial(tuner_id)
        if trial.status == "RUNNING":
            self.__dict__.setdefault("trial_owners", {})[trial.trial_id] = tuner_id
        return trial

    def get_state(self):
        return {**super().get_state(), "trial_owners": getattr(self, "trial_owners", {})}

    def set_state(self, state):
        super().set_state(state)
        self.trial_owners = dict(state.get("trial_owners", {}))

    def save(self):
        write_text(self._get_oracle_fname(), json.dumps(self.get_state()))

    def _save_trial(self, trial):
        if trial.status != "RUNNING":
            # KerasTuner writes the ended trial's file, then oracle.json: a kill between the two
            # left a COMPLETED trial the reloaded oracle did not know. The oracle's record of
            # the end goes first, so the trial file saying COMPLETED is the last write.
            self.save()
        write_text(os.path.join(self._get_trial_dir(trial.trial_id), "trial.json"),
                   json.dumps(trial.get_state()))


def make_oracle(kind, objective, max_trials, epochs, seed, num_initial_points=None):
    """A KerasTuner oracle of `kind` with `GuardedOracle`'s guards."""
    if kind not in ORACLES:
        raise ValueError(f"Unknown tuner {kind!r}. Expected one of {sorted(ORACLES)}.")
    cls = type(f"Guarded{ORACLES[kind].__name__}", (GuardedOracle, ORACLES[kind]), {})
    common = {"objective": objective, "seed": seed + 1, "max_consecutive_failed_trials": 5}
    if kind == "hyperband":
        oracle = cls(max_epochs=epochs, factor=3, **common)
        oracle.max_trials = max_trials  # the base Oracle stops at max_trials for Hyperband too
        return oracle
    if kind == "bayesian":  # random trials before the Gaussian process (default 3 x dimensions)
        common["num_initial_points"] = num_initial_points
    return cls(max_trials=max_trials, **common)


class ZooTuner(keras_tuner.Tuner):
    """A `keras_tuner.Tuner` that seeds each trial, writes it to TensorBoard's HParams
    dashboard when it ends, and saves its own state atomically."""

    def __init__(self, oracle, hypermodel, seed=0, **kwargs):
        keras_tuner.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)
        self.seed = seed
        self._histories = {}

    def run_trial(self, trial, *args, **kwargs):
        keras.utils.set_random_seed(self.seed * 1000 + int(trial.trial_id))
        results = super().run_trial(trial, *args, **kwargs)
        self._histories[trial.trial_id] = results[-1].history if isinstance(results, list) else {}
        return results

    def on_search_begin(self):
        super().on_search_begin()
        self.save()  # a kill before the first trial ends still leaves a tuner to reload

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        ended = self.oracle.get_trial(trial.trial_id)
        hparams.write_trial(os.path.join(self.project_dir, "tensorboard"), trial.trial_id,
                            ended.hyperparameters.values, self._histories.pop(trial.trial_id, {}),
                            status=ended.status, score=ended.score)

    def save(self):
        if not self._is_worker():
            self.oracle.save()
        write_text(self._get_tuner_fname(), json.dumps(self.get_state()))


class ZooHyperbandTuner(ZooTuner, keras_tuner.Hyperband):
    """`ZooTuner` with Hyperband's `run_trial` (epoch budgets, weights carried between rounds)."""


def _check_positive(name, value, allow_none=False):
    if (value is None and allow_none) or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return value
    raise ValueError(f"Expected {name} to be a positive integer. Received: {name}={value!r}")


def search(model_name="cnn", dataset="fashion_mnist", tuner="bayesian", max_trials=10, epochs=None,
           seed=0, directory="tuning_runs", project_name=None, train_limit=None, val_limit=None,
           validation_split=0.1, data_dir=None, fixed=None, space=None, objective="val_accuracy",
           workers=0, num_initial_points=None, overwrite=False, verbose=1):
    """Runs (or resumes) a search; returns a summary dict (also written as JSON and CSV).

    Args:
        model_name, dataset: a zoo model and "mnist" / "fashion_mnist".
        tuner: "bayesian" (default), "hyperband" or "random".
        max_trials: trials in all (Hyperband stops there too).
        epochs: epochs per trial (Hyperband's `max_epochs`); default the model's recipe.
        seed: seeds the oracle, the validation split and every trial's weights.
        directory, project_name: where the search lives; the same pair resumes it.
        train_limit, val_limit: use the first N training / validation images.
        fixed, space: passed to `ZooHyperModel`.
        num_initial_points: random trials before the Bayesian model takes over.
        objective: a metric of `fit`'s logs, maximized if it names an accuracy.
        workers: 0 runs here; N > 0 runs a chief here and N workers on this machine (loopback).
            With `KERASTUNER_*` set (see `tuning.distributed`) this process is that chief/worker.
        overwrite: start over, deleting the project.
        verbose: 0 silent, 1 KerasTuner's trial tables and Keras progress bars, 2 one line per epoch.
    """
    _check_positive("max_trials", max_trials)
    _check_positive("epochs", epochs, allow_none=True)
    _check_positive("train_limit", train_limit, allow_none=True)
    _check_positive("val_limit", val_limit, allow_none=True)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ValueError(f"Expected workers to be an integer >= 0. Received: workers={workers!r}")
    if tuner not in ORACLES:
        raise ValueError(f"Unknown tuner {tuner!r}. Expected one of {sorted(ORACLES)}.")
    role = distributed.role()
    if workers and role != "local":
        raise ValueError(f"workers={workers} launches its own chief and workers; unset the "
                         "KERASTUNER_* variables, or run this process as one of them with workers=0.")
    project_name = project_name or f"{model_name}_{dataset}_{tuner}_s{seed}"
    data = datasets.load(dataset, validation_split, seed, data_dir)
    x, y = images_to_inputs(data.x_train[:train_limit]), data.y_train[:train_limit]
    x_val, y_val = images_to_inputs(data.x_val[:val_limit]), data.y_val[:val_limit]
    hypermodel = ZooHyperModel(model_name, fixed=fixed, space=space,
                               input_shape=data.input_shape + (1,), num_classes=data.num_classes,
                               epochs=epochs, train_size=len(x))
    direction = "max" if "acc" in objective else "min"
    oracle = make_oracle(tuner, keras_tuner.Objective(objective, direction), max_trials,
                         hypermodel.epochs, seed, num_initial_points)
    cls = ZooHyperbandTuner if tuner == "hyperband" else ZooTuner
    keras_tuner_ = cls(oracle, hypermodel, seed=seed, directory=directory,
                       project_name=project_name, overwrite=overwrite,
                       tuner_id="chief" if workers else None)
    start = time.perf_counter()
    fit_kwargs = {"epochs": hypermodel.epochs, "validation_data": (x_val, y_val),
                  "callbacks": [DivergenceGuard()], "verbose": verbose}
    report = {}
    if role == "worker":
        keras_tuner_.search(x, y, **fit_kwargs)
        return {"role": role, "project_dir": keras_tuner_.project_dir}
    if role == "chief" or workers:
        config = {"model_name": model_name, "dataset": dataset, "tuner": tuner,
                  "max_trials": max_trials, "epochs": epochs, "seed": seed,
                  "directory": os.path.abspath(directory), "project_name": project_name,
                  "train_limit": train_limit, "val_limit": val_limit,
                  "validation_split": validation_split, "data_dir": data_dir, "fixed": fixed,
                  "space": space, "objective": objective, "num_initial_points": num_initial_points,
                  "verbose": 2 if verbose else 0}
        report = distributed.run_chief(keras_tuner_, config, workers, verbose=verbose)
    else:
        keras_tuner_.search(x, y, **fit_kwargs)
    result = export(keras_tuner_, model_name, dataset, time.perf_counter() - start, verbose=verbose)
    result.update(report)
    return result


def trial_rows(oracle):
    """One dict per trial: id, status, score, tuner, then the hyperparameter values."""
    owners = getattr(oracle, "trial_owners", {})
    return [{"trial_id": t.trial_id, "status": t.status, "score": t.score,
             "tuner": owners.get(t.trial_id, ""), **t.hyperparameters.values}
            for t in sorted(oracle.trials.values(), key=lambda t: t.trial_id)]


def export(tuner, model_name, dataset, seconds, verbose=1):
    """Writes best_hyperparameters.json, trials.csv and best_model.keras; prints the table."""
    oracle, out = tuner.oracle, tuner.project_dir
    rows = trial_rows(oracle)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns)
    writer.writeheader()
    writer.writerows(rows)
    write_text(os.path.join(out, "trials.csv"), buffer.getvalue())
    best = [t for t in oracle.get_best_trials(1) if t.status == "COMPLETED"]
    counts = {s: sum(r["status"] == s for r in rows) for s in ("COMPLETED", "FAILED", "INVALID", "RUNNING")}
    result = {"model": model_name, "dataset": dataset, "project_dir": out,
              "objective": oracle.objective.name, "trials": len(rows), "statuses": counts,
              "search_seconds": round(seconds, 1), "best": None, "environment": saving.environment()}
    if best:
        trial = best[0]
        result["best"] = {"trial_id": trial.trial_id, "score": trial.score,
                          "hyperparameters": trial.hyperparameters.values}
        model_path = os.path.join(out, "best_model.keras")
        with warnings.catch_warnings():  # the checkpoint's optimizer slots are not needed here
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model = tuner.load_model(trial)
        model.optimizer.build(model.trainable_variables)  # so that the .keras file reloads cleanly
        card = saving.save_model(model, model_path, card={
            "architecture": model_name, "dataset": dataset, "tuning": result["best"]})
        result.update(model_path=model_path, sha256=card["sha256"])
    write_text(os.path.join(out, "best_hyperparameters.json"), json.dumps(result, indent=2))
    if verbose:
        print_table(rows, oracle.objective.name)
    return result


def print_table(rows, objective, limit=10):
    ranked = sorted(rows, key=lambda r: (r["status"] != "COMPLETED", -(r["score"] or 0)
                                         if "acc" in objective else (r["score"] or 0)))
    names = [k for k in dict.fromkeys(k for r in rows for k in r)
             if k not in ("trial_id", "status", "score", "tuner") and not k.startswith("tuner/")]
    print(f"\nSearch summary: {len(rows)} trials, best {limit} by {objective}")
    header = ["trial", "status", objective, *names]
    print("  ".join(f"{h[:12]:>12}" for h in header))
    for r in ranked[:limit]:
        cells = [r["trial_id"], r["status"], r["score"], *(r.get(n, "") for n in names)]
        print("  ".join(f"{c:>12.4g}" if isinstance(c, float) else f"{str(c)[:12]:>12}" for c in cells))
