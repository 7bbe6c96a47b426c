"""What the experiments' runs share: data per seed, model building and the one fit path.

Every model trains through `keras_seminar.training.fit_arrays` (the path `keras-seminar train`
uses); a seed sets the train/validation split, the order of the training data and the weights.
The protocol that runs an experiment is `_protocol.Experiment`; running one is `_run`.
"""

import dataclasses
import functools
import typing

import keras
import numpy as np
from keras_seminar.experiments import _report

from keras_seminar import datasets, models
from keras_seminar.training import fit_arrays, fit_model, prepare_arrays, recipe_for, test_metrics
from keras_seminar.training.plan import default_steps_per_execution

VALIDATION_SPLIT = 0.1  # 60k -> 54k train / 6k validation


@functools.lru_cache(maxsize=2)
def _dataset(name, seed):
    return datasets.load(name, validation_split=VALIDATION_SPLIT, seed=seed, download=False)


def load(name, seed=0, train_limit=None, val_limit=None, test_limit=None):
    """The data of one seed (`training.prepare_arrays`: a limit keeps the first N of its split):
    its own stratified 54k/6k split and its training images in a seeded order; the test set is
    the same for all."""
    arrays = prepare_arrays(_dataset(name, int(seed)), train_limit, val_limit, test_limit)
    order = np.random.default_rng(seed).permutation(len(arrays.y_train))
    return dataclasses.replace(arrays, x_train=arrays.x_train[order], y_train=arrays.y_train[order])


def test_subset(data, limit, seed):
    """`(x, y)`: the whole test set, or a seeded random `limit`-image subset of it (attacks)."""
    if limit is None or limit >= len(data.y_test):
        return data.x_test, data.y_test
    idx = np.sort(np.random.default_rng(1000 + seed).choice(len(data.y_test), limit, replace=False))
    return data.x_test[idx], data.y_test[idx]


def build(seed, model, **options):
    """The zoo's `model` built with `options`, its weights drawn from `seed`."""
    keras.utils.set_random_seed(seed)
    return models.build_model(model, **options)


def build_mlp(seed, **options):
    """The zoo's `mlp` (Flatten - Dense x len(hidden) - Dense - softmax), weights drawn from `seed`."""
    return build(seed, "mlp", **options)


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


def fit_to_plateau(model, data, seed, epochs, batch_size):
    """Trains an already compiled `model` (its own optimizer and loss, no recipe) on `data` through
    `training.fit_model` until its plateau (`Plateau`; the last epoch's weights kept), at most
    `epochs`; returns the history dict."""
    history = fit_model(model, data.x_train, data.y_train, batch_size=batch_size, seed=seed, epochs=epochs,
                        validation_data=data.validation, callbacks=[Plateau()])
    return {k: [float(v) for v in vs] for k, vs in history.history.items()}


def early_stopping(patience):
    """Stops when the validation loss has not improved for `patience` epochs; keeps the best weights."""
    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)


def accuracy(model, x, y):
    return test_metrics(model, x, y)["accuracy"]


def kernels(model):
    """`{layer name: kernel as NumPy}` for every layer with a kernel."""
    return {layer.name: keras.ops.convert_to_numpy(layer.kernel) for layer in model.layers
            if getattr(layer, "kernel", None) is not None}


class Converged(typing.NamedTuple):
    """A fit to convergence: its history dict and the index of the kept (best) epoch."""

    history: dict
    best: int

    @property
    def epochs(self):
        """`{"best_epoch": 1-based, "epochs_run": n}`, for a run's record."""
        return {"best_epoch": self.best + 1, "epochs_run": len(self.history["val_loss"])}


def fit_to_convergence(model, data, seed, patience, epochs, callbacks=(), **recipe):
    """`fit` with early stopping on the validation loss (the best epoch's weights kept), at most
    `epochs`; returns a `Converged` `(history dict, index of the kept epoch)`."""
    history = fit(model, data, seed, callbacks=[*callbacks, early_stopping(patience)], epochs=epochs, **recipe)
    return Converged(history, int(np.argmin(history["val_loss"])))


class Plateau(keras.callbacks.Callback):
    """Stops a fit on its plateau: once the validation loss fell less than `_report.PLATEAU_TOLERANCE`
    (3%) over the last 5 epochs (`_report.last_fall`), so after 6 epochs at the earliest; the last
    epoch's weights stay. `losses` holds the validation loss of every epoch of the last fit."""

    def on_train_begin(self, logs=None):
        self.losses = []

    def on_epoch_end(self, epoch, logs=None):
        self.losses.append(float(logs["val_loss"]))
        if (fall := _report.last_fall(self.losses)) is not None and fall < _report.PLATEAU_TOLERANCE:
            self.model.stop_training = True
