"""Sparsifying regularizers: the accuracy-sparsity frontier, and sparsifying trained nets by fine-tuning."""

import dataclasses
import itertools
import os
import shutil

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

from keras_seminar import regularizers, saving, training
from keras_seminar.errors import RunConflict
from keras_seminar.models import build_model, get_spec
from keras_seminar.training.resume import check_resume

__all__ = ["BASES", "base", "Config", "finetune", "magnitude_threshold", "PENALTIES", "Penalty", "penalty",
           "prune", "Sparsity"]

PENALTIES = ("none", "l1", "l2", "l12", "lq03", "group_lasso")
Penalty = one_of(*PENALTIES)
BASES = "sparsity_bases"  # the fine-tunes' trained bases, cached in this folder of the output folder


@dataclasses.dataclass
class Config:
    datasets: tuple[Dataset, ...] = ("mnist", "fashion_mnist")
    hidden: tuple[Count, ...] = (256,)             # MLP 784-256-10 ReLU, Adam 1e-3 (the zoo mlp recipe)
    # lambda grid per penalty (summed over every kernel entry, added to the mean cross-entropy);
    # "none" is the unregularized reference every point is compared with (same seeds). L1 runs
    # on until it loses more than a point (MNIST lost 0.58 at 3e-4).
    grid: dict[Penalty, tuple[NonNegative, ...]] = dataclasses.field(default_factory=lambda: {
        "none": (0.0,), "l1": (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3), "l12": (1e-5, 3e-5, 1e-4, 3e-4),
        "lq03": (1e-5, 3e-5, 1e-4, 3e-4), "group_lasso": (1e-4, 3e-4, 1e-3), "l2": (1e-4, 1e-3)})
    threshold: Positive = 1e-2           # after training, |w| < threshold is set to 0 (no fine-tune)
    # Magnitude pruning (the baseline): the smallest fraction p of |w| over all kernels set to 0,
    # applied to the "none" and "l2" nets.
    prune_fractions: tuple[Fraction, ...] = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
    max_accuracy_drop: Fraction = 0.01     # "sparsity at <= 1 point mean accuracy loss vs unregularized"
    # Matched accuracy: a lambda matches when its pruned accuracy is equivalent to the
    # unregularized net's within +- match_margin (TOST at 5%, paired by seed).
    match_margin: Fraction = 0.003
    max_epochs: Count = 40               # early stopping on the validation loss, patience below
    patience: Natural = 4
    # Fine-tuning trained nets: seed s trains base s of each model and data set (the zoo recipe,
    # `keras_seminar.training.train`, cached in <out>/sparsity_bases/), then each penalty at
    # finetune_lambda fine-tunes it for finetune_epochs (Adam 1e-4), against an unregularized
    # fine-tune of the same base and epochs (the control); then pruned at `threshold`.
    finetune_models: tuple[str, ...] = ("mlp", "lenet5", "cnn")
    finetune_lambda: dict[Penalty, NonNegative] = dataclasses.field(default_factory=lambda: {
        "none": 0.0, "l1": 3e-5, "l12": 3e-5, "lq03": 3e-5, "group_lasso": 3e-4})
    finetune_epochs: Count = 3           # the TF-tutorial CNN takes ~40 s an epoch on the 2-core CPU
    base_epochs: Count | None = None     # None: each model's recipe (mlp 20, lenet5 20, cnn 8 epochs)
    train_limit: Count | None = None     # None: all 54k training images (6k are validation)
    test_limit: Count | None = None
    seeds: Count = 5


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
    weights, accuracy = model.get_weights(), lambda: _runner.accuracy(model, data.x_test, data.y_test)
    out = {"test_accuracy": accuracy()}
    for p in config.prune_fractions if magnitude else ():
        prune(model, magnitude_threshold(model, p))
        out.setdefault("magnitude", {})[str(p)] = accuracy()
        model.set_weights(weights)
    out["sparsity"] = prune(model, config.threshold)
    out["pruned_accuracy"] = accuracy()
    model.set_weights(weights)
    return out


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
                 finetune_lambda={"none": 0.0, "l12": 1e-4}, finetune_epochs=1, base_epochs=1,
                 train_limit=256, test_limit=128, seeds=2)
    headline = ("pruned_accuracy",)

    def check(self, config):
        for name in config.finetune_models:
            get_spec(name)

    def plan(self, config, seeds):
        """Data set by data set (a stopped run's partial results hold whole data sets first): the
        frontier of every seed, then the fine-tunes (each seed's base trained at its first)."""
        for dataset in config.datasets:
            for seed, name in itertools.product(seeds, config.grid):
                for factor in config.grid[name]:
                    yield {"phase": "frontier", "dataset": dataset, "penalty": name, "lambda": factor}, seed
            for seed, model, name in itertools.product(seeds, config.finetune_models, config.finetune_lambda):
                yield {"phase": "finetune", "dataset": dataset, "model": model, "penalty": name}, seed

    def run_arm(self, config, arm, seed, data):
        if arm["phase"] == "frontier":
            model = _runner.build_mlp(seed, hidden=config.hidden, kernel_regularizer=penalty(arm["penalty"], arm["lambda"]))
            fit = _runner.fit_to_convergence(model, data, seed, config.patience, config.max_epochs,
                                             learning_rate=1e-3, schedule="constant")
            return dict(**fit.epochs, val_loss=fit.history["val_loss"],
                        **_measure(model, data, config, magnitude=arm["penalty"] in ("none", "l2")))
        out = os.path.dirname(os.path.abspath(self.runs.path))
        start = self.shared("base", (arm["dataset"], arm["model"], seed),
                            lambda: base(config, arm["dataset"], arm["model"], seed, os.path.join(out, BASES)))
        return finetune(config, data, arm, seed, start)

    def render(self, config, results, report):
        _sparsity_render.render(config, results, report)


def base(config, dataset, model, seed, folder):
    """`(model, its options, record)`: base `seed` of `model` on `dataset`, trained with the model's
    recipe by `training.train` in `folder/<model>_<dataset>_s<seed>/` (a killed one resumes from its
    per-epoch backup), or the one finished there when its config, seed and sha256 are this run's:
    a file of another sha256 than its card's, or another config's run, is trained again from scratch."""
    train_config = training.TrainConfig(
        model=model, dataset=dataset, seed=seed, epochs=config.base_epochs, runs_dir=folder, slim=True,
        train_limit=config.train_limit, test_limit=config.test_limit, tta=False, verbose=0,
        model_options={"hidden": list(config.hidden)} if model == "mlp" else {})
    plan = training.resolve(train_config)
    try:
        if os.path.exists(plan.model_path):
            saving.load_model(plan.model_path, compile=False)  # checks its sha256 against its card
        check_resume(plan)  # raises for another config's run
    except (saving.ModelFileError, RunConflict) as e:
        print(f"sparsity: the cached base {plan.run_dir} is not this run's, training it again: {e}")
        shutil.rmtree(plan.run_dir)
    result = training.train(train_config)
    return saving.load_model(result["model_path"], compile=False), plan.model_options, {
        "pretrained": os.path.relpath(result["model_path"], os.path.dirname(folder)),
        "pretrained_sha256": result["sha256"], "pretrained_accuracy": result["test"]["accuracy"]}


def finetune(config, data, arm, seed, start):
    """Fine-tunes a copy of the trained `start` (`base`) with the arm's penalty (or none, the
    control) for `finetune_epochs`, and prunes |w| < threshold."""
    trained, options, record = start
    keras.utils.set_random_seed(seed)
    tuned = build_model(arm["model"], kernel_regularizer=penalty(arm["penalty"], config.finetune_lambda[arm["penalty"]]),
                        **options)
    tuned.set_weights(trained.get_weights())
    history = _runner.fit(tuned, data, seed, model_name=arm["model"], epochs=config.finetune_epochs,
                          learning_rate=1e-4, schedule="constant")
    return dict(**record, val_loss=history["val_loss"], **_measure(tuned, data, config))
