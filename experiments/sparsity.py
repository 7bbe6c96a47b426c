"""Sparsifying regularizers: the accuracy-sparsity frontier, and sparsifying trained nets by fine-tuning."""

import dataclasses
import os

import keras
import numpy as np
from keras_seminar.experiments import _runner, _sparsity_render
from keras_seminar.experiments._config import (
    Count,
    Dataset,
    Fraction,
    Natural,
    NonNegative,
    Positive,
    one_of,
)
from keras_seminar.experiments._protocol import Experiment, register

from keras_seminar import regularizers, saving
from keras_seminar.models import get_spec

__all__ = ["Config", "finetune", "magnitude_threshold", "PENALTIES", "Penalty", "penalty", "prune",
           "REPO", "Sparsity"]

PENALTIES = ("none", "l1", "l2", "l12", "lq03", "group_lasso")
Penalty = one_of(*PENALTIES)


@dataclasses.dataclass
class Config:
    datasets: tuple[Dataset, ...] = ("mnist", "fashion_mnist")
    hidden: tuple[Count, ...] = (256,)             # MLP 784-256-10 ReLU, Adam 1e-3 (the zoo mlp recipe)
    # lambda grid per penalty (summed over every kernel entry, added to the mean cross-entropy);
    # "none" is the unregularized reference every point is compared with (same seeds).
    grid: dict[Penalty, tuple[NonNegative, ...]] = dataclasses.field(default_factory=lambda: {
        "none": (0.0,), "l1": (1e-5, 3e-5, 1e-4, 3e-4), "l12": (1e-5, 3e-5, 1e-4, 3e-4),
        "lq03": (1e-5, 3e-5, 1e-4, 3e-4), "group_lasso": (1e-4, 3e-4, 1e-3), "l2": (1e-4, 1e-3)})
    threshold: Positive = 1e-2           # after training, |w| < threshold is set to 0 (no fine-tune)
    # Magnitude pruning (the baseline): the smallest fraction p of |w| over all kernels set to 0,
    # applied to the "none" and "l2" nets.
    prune_fractions: tuple[Fraction, ...] = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
    max_accuracy_drop: Fraction = 0.01     # "sparsity at <= 1 point accuracy loss vs unregularized"
    max_epochs: Count = 40               # early stopping on the validation loss, patience below
    patience: Natural = 4
    # Fine-tuning trained nets: each penalty at finetune_lambda for finetune_epochs (Adam 1e-4),
    # against an unregularized fine-tune of the same epochs (the control), then pruned at
    # `threshold`. The zoo models start from the shipped saved_models/<model>_<dataset>.keras
    # (one trained net; seeds vary the fine-tune's data order), the mlp from a free net trained
    # here per seed. 3 epochs: the TF-tutorial CNN takes ~40 s an epoch on the 2-core CPU.
    finetune_models: tuple[str, ...] = ("mlp", "lenet5", "cnn")
    finetune_lambda: dict[Penalty, NonNegative] = dataclasses.field(default_factory=lambda: {
        "none": 0.0, "l1": 3e-5, "l12": 3e-5, "lq03": 3e-5, "group_lasso": 3e-4})
    finetune_epochs: Count = 3
    train_limit: Count | None = None     # None: all 54k training images (6k are validation)
    test_limit: Count | None = None
    seeds: Count = 5


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def penalty(name, factor):
    """The kernel regularizer of a grid entry (None for "none" or a zero factor)."""
    if name == "none" or not factor:
        return None
    return {"l1": lambda: keras.regularizers.L1(factor), "l2": lambda: keras.regularizers.L2(factor),
            "l12": lambda: regularizers.L12(factor), "lq03": lambda: regularizers.Lq(0.3, factor),
            "group_lasso": lambda: regularizers.GroupLasso(factor)}[name]()


def _kernels(model):
    return [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]


def prune(model, threshold):
    """Sets |w| < threshold to 0 in every kernel; returns the fraction of kernel entries that are 0."""
    zeros = total = 0
    for layer in _kernels(model):
        w = keras.ops.convert_to_numpy(layer.kernel)
        w = np.where(np.abs(w) < threshold, 0.0, w).astype(w.dtype)
        layer.kernel.assign(w)
        zeros, total = zeros + int((w == 0).sum()), total + w.size
    return zeros / total


def magnitude_threshold(model, fraction):
    """The |w| below which `fraction` of all kernel entries lie."""
    return float(np.quantile(np.concatenate([np.abs(keras.ops.convert_to_numpy(layer.kernel)).ravel()
                                             for layer in _kernels(model)]), fraction))


def _measure(model, data, config, magnitude=False):
    out = {"test_accuracy": _runner.accuracy(model, data.x_test, data.y_test)}
    weights = model.get_weights()
    if magnitude:
        out["magnitude"] = {}
        for p in config.prune_fractions:
            prune(model, magnitude_threshold(model, p))
            out["magnitude"][str(p)] = _runner.accuracy(model, data.x_test, data.y_test)
            model.set_weights(weights)
    out["sparsity"] = prune(model, config.threshold)
    out["pruned_accuracy"] = _runner.accuracy(model, data.x_test, data.y_test)
    model.set_weights(weights)
    return out


def _fit(model, data, seed, config, epochs, model_name="mlp"):
    history, best = _runner.fit_to_convergence(model, data, seed, config.patience, epochs, model_name=model_name,
                                               learning_rate=1e-3, schedule="constant")
    return best + 1, len(history["val_loss"]), history


@register
class Sparsity(Experiment):
    name = "sparsity"
    title = "Sparsity: the accuracy-sparsity frontier of L1, L1/2, Lq, group lasso and L2 + pruning"
    question = ("How much accuracy does each sparsifying regularizer (L1, smoothed L1/2, Lq with "
                "q=0.3, group lasso) give up for how many zero weights after pruning, against L2 with "
                "magnitude pruning, and can a trained dense model be sparsified by fine-tuning with "
                "them? (seminar 000, 'Ritka reprezentáció')")
    config = Config()
    smoke = dict(datasets=("fashion_mnist",), grid={"none": (0.0,), "l12": (1e-4,), "l2": (1e-4,)},
                 prune_fractions=(0.5,), max_epochs=1, patience=1, finetune_models=("mlp", "lenet5"),
                 finetune_lambda={"none": 0.0, "l12": 1e-4}, finetune_epochs=1, train_limit=256,
                 test_limit=128, seeds=2)
    headline = ("pruned_accuracy",)

    def check(self, config):
        for name in config.finetune_models:
            get_spec(name)

    def plan(self, config, seeds):
        """The frontier of every data set and seed first, then the fine-tunes (a stopped run's
        partial results hold whole phases first)."""
        for dataset in config.datasets:
            for seed in seeds:
                for name, factors in config.grid.items():
                    for factor in factors:
                        yield {"phase": "frontier", "dataset": dataset, "penalty": name, "lambda": factor}, seed
        for dataset in config.datasets:
            for seed in seeds:
                for model_name in config.finetune_models:
                    for name in config.finetune_lambda:
                        yield {"phase": "finetune", "dataset": dataset, "model": model_name, "penalty": name}, seed

    def run_arm(self, config, arm, seed, data):
        if arm["phase"] == "frontier":
            model = _runner.build_mlp(seed, hidden=config.hidden, kernel_regularizer=penalty(arm["penalty"], arm["lambda"]))
            best, ran, history = _fit(model, data, seed, config, config.max_epochs)
            return dict(best_epoch=best, epochs_run=ran, val_loss=history["val_loss"],
                        **_measure(model, data, config, magnitude=arm["penalty"] in ("none", "l2")))
        return finetune(config, data, arm, seed, self._starting_point(config, data, arm, seed))

    def _starting_point(self, config, data, arm, seed):
        """`(model, options, where, its test accuracy)`, shared by the fine-tunes of one model and seed."""
        def make():
            base, options, source = _trained(config, data, arm["dataset"], arm["model"], seed)
            return base, options, source, _runner.accuracy(base, data.x_test, data.y_test)

        return self.shared("start", (arm["dataset"], arm["model"], seed), make)

    def render(self, config, results, report):
        _sparsity_render.render(config, results, report)


def _build(model_name, seed, config, regularizer=None, options=None):
    if model_name == "mlp":
        return _runner.build_mlp(seed, hidden=config.hidden, kernel_regularizer=regularizer)
    keras.utils.set_random_seed(seed)
    from keras_seminar.models import build_model

    return build_model(model_name, kernel_regularizer=regularizer, **(options or {}))


def _trained(config, data, dataset, model_name, seed):
    """`(model, options, where)`: the shipped zoo model, found as `keras_seminar.models.pretrained`
    finds it (this checkout's saved_models/, the $KERAS_HOME cache, a download; card checked),
    else, saying so in one line, a free net trained here to convergence."""
    from keras_seminar.models import pretrained_path

    try:
        path = pretrained_path(model_name, dataset) if model_name != "mlp" else None
    except saving.ModelFileError as e:
        path = None
        print(f"sparsity: no shipped {model_name}_{dataset}, training a free {model_name} here "
              f"instead (another starting point than the shipped model's): {e}")
    if path is not None:
        shipped = saving.load_model(path, compile=False)
        options = saving.read_card(path).get("model_options") or {}
        model = _build(model_name, seed, config, options=options)
        model.set_weights(shipped.get_weights())
        # The report names a checkout's file as the repo does (saved_models/...).
        inside = os.path.abspath(path).startswith(REPO + os.sep)
        return model, options, os.path.relpath(path, REPO) if inside else path
    model = _build(model_name, seed, config)
    _fit(model, data, seed, config, config.max_epochs, model_name)
    return model, {}, "trained here"


def finetune(config, data, arm, seed, start):
    """Fine-tunes a copy of the trained `start` (`_starting_point`) with the arm's penalty (or
    none, the control) for `finetune_epochs`, and prunes |w| < threshold."""
    base, options, source, pre = start
    tuned = _build(arm["model"], seed, config, penalty(arm["penalty"], config.finetune_lambda[arm["penalty"]]), options)
    tuned.set_weights(base.get_weights())
    history = _runner.fit(tuned, data, seed, model_name=arm["model"], epochs=config.finetune_epochs,
                          learning_rate=1e-4, schedule="constant")
    return dict(pretrained_accuracy=pre, pretrained=source, val_loss=history["val_loss"], **_measure(tuned, data, config))
