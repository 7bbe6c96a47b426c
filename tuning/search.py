"""`search()`: a resumable KerasTuner search over one zoo model on the real data.

Re-running the same call (same `directory` / `project_name`) resumes: KerasTuner reloads the
oracle with `overwrite=False`, keeps every completed trial and re-runs the one that was cut
off. Oracle, trial and tuner state are written atomically (`tuning.oracle`, `tuning.tuner`).

A trial that diverges (NaN/inf loss), whose training loss rises or whose validation accuracy
is at chance is FAILED (`tuning.trial_check`), and a non-finite objective is never scored:
neither can become the best trial.

Outputs in `<directory>/<project_name>/`: `best_hyperparameters.json`, `trials.csv`,
`best_model.keras` (+ its model card `best_model.json`), `tensorboard/<trial_id>` (HParams).

Example:
    >>> from tuning.search import search
    >>> result = search("cnn", "fashion_mnist", max_trials=20, epochs=3)
    >>> result["best"]["hyperparameters"]
"""

import glob
import os
import time

import keras_tuner
from keras_seminar.tuning import distributed
from keras_seminar.tuning.config import SearchConfig
from keras_seminar.tuning.hypermodels import ZooHyperModel
from keras_seminar.tuning.oracle import make_oracle
from keras_seminar.tuning.report import export
from keras_seminar.tuning.tuner import ZooHyperbandTuner, ZooTuner

from keras_seminar import datasets
from keras_seminar._io import clean_stale
from keras_seminar.errors import UsageError
from keras_seminar.training import prepare_arrays

__all__ = ["run", "search"]


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
        directory, project_name: where the search lives; the same pair resumes it. The
            project name is one folder name (letters, digits, `_ . -`).
        train_limit, val_limit: use the first N training / validation images.
        fixed, space: passed to `ZooHyperModel` (in `space`, a tuple is a range, a list choices);
            every value is checked before any trial.
        num_initial_points: random trials before the Bayesian model takes over.
        objective: a metric of `fit`'s logs, maximized if it names an accuracy.
        workers: 0 runs here; N > 0 runs a chief here and N workers on this machine (loopback).
            With `KERASTUNER_*` set (see `tuning.distributed`) this process is that chief/worker.
        overwrite: start over, deleting the project.
        verbose: 0 quiet (a rejected trial is still one line on stderr), 1 one line per ended
            trial ("trial k/N", its score, the best so far, an ETA) and Keras progress bars,
            2 the same with one line per epoch.
    """
    return run(SearchConfig(
        model_name=model_name, dataset=dataset, tuner=tuner, max_trials=max_trials, epochs=epochs,
        seed=seed, directory=directory, project_name=project_name, train_limit=train_limit,
        val_limit=val_limit, validation_split=validation_split, data_dir=data_dir, fixed=fixed,
        space=space, objective=objective, workers=workers, num_initial_points=num_initial_points,
        overwrite=overwrite, verbose=verbose))


def run(config):
    """Runs the search `config` (a `SearchConfig`) as this process's role: local, chief or worker."""
    role = distributed.role()
    if config.workers and role != "local":
        raise UsageError(f"workers={config.workers} launches its own chief and workers; unset the "
                         "KERASTUNER_* variables, or run this process as one of them with workers=0.")
    if role != "worker":  # leftovers of writers killed mid-write (a minute old: not a live one's)
        for folder in [config.project_dir, *glob.glob(os.path.join(config.project_dir, "trial_*"))]:
            clean_stale(folder, min_age_s=60)
    data = datasets.load(config.dataset, config.validation_split, config.seed, config.data_dir)
    arrays = prepare_arrays(data, config.train_limit, config.val_limit, test_limit=0)
    x, y = arrays.x_train, arrays.y_train
    hypermodel = ZooHyperModel(config.model_name, fixed=config.fixed, space=config.space,
                               input_shape=data.input_shape + (1,), num_classes=data.num_classes,
                               epochs=config.epochs, train_size=len(x))
    direction = "max" if "acc" in config.objective else "min"
    oracle = make_oracle(config.tuner, keras_tuner.Objective(config.objective, direction),
                         config.max_trials, hypermodel.epochs, config.seed, config.num_initial_points,
                         progress=config.verbose > 0)
    cls = ZooHyperbandTuner if config.tuner == "hyperband" else ZooTuner
    tuner = cls(oracle, hypermodel, seed=config.seed, directory=config.directory,
                project_name=config.project_name, overwrite=config.overwrite,
                tuner_id="chief" if config.workers else None)
    start = time.perf_counter()
    fit_kwargs = {"epochs": hypermodel.epochs, "validation_data": arrays.validation,
                  "verbose": config.verbose}
    report = {}
    if role == "worker":
        tuner.search(x, y, **fit_kwargs)
        return {"role": role, "project_dir": tuner.project_dir}
    if role == "chief" or config.workers:
        report = distributed.run_chief(tuner, config.for_worker(), config.workers,
                                       verbose=config.verbose)
    else:
        tuner.search(x, y, **fit_kwargs)
    result = export(tuner, config.model_name, config.dataset, time.perf_counter() - start,
                    verbose=config.verbose)
    result.update(report)
    return result
