"""White-box and transfer robustness of free, sparse, positive and adversarially trained MLPs."""

import dataclasses

import keras
import numpy as np
from keras_seminar.experiments import _attacks, _robustness_render, _runner
from keras_seminar.experiments._attacks import Eps
from keras_seminar.experiments._config import Count, Dataset, Natural, NonNegative, one_of
from keras_seminar.experiments._protocol import Experiment, register

from keras_seminar import adversarial, regularizers
from keras_seminar.errors import UsageError
from keras_seminar.training import compile_model, recipe_for

__all__ = ["adversarial_fit", "ARMS", "build", "Config", "Eps", "Robustness", "train"]

ARMS = ("free", "l1", "l2", "l12", "nonneg_output", "nonneg_all", "adv_fgsm", "adv_pgd")

@dataclasses.dataclass
class Config:
    datasets: tuple[Dataset, ...] = ("mnist", "fashion_mnist")
    hidden: tuple[Count, ...] = (256,)   # MLP 784-256-10 ReLU, Adam 1e-3
    arms: tuple[one_of(*ARMS), ...] = ARMS
    penalties: dict[one_of("l1", "l2", "l12"), NonNegative] = dataclasses.field(default_factory=lambda: {"l1": 3e-5, "l2": 1e-4, "l12": 3e-5})
    # Adversarial training, crafted per batch against the current weights: adv_fgsm trains on
    # each batch and its FGSM version (Goodfellow's alpha = 0.5 loss mix); adv_pgd on the PGD
    # version alone (Madry et al.), eps 0.3 on MNIST and 0.1 on Fashion-MNIST.
    train_eps: dict[Dataset, Eps] = dataclasses.field(default_factory=lambda: {"mnist": 0.3, "fashion_mnist": 0.1})
    train_pgd_steps: Count = 7           # Madry et al. use 40 on MNIST; 7 fits a CPU (stated)
    train_pgd_ramp: Natural = 5          # adv_pgd: eps grows from 0 over these first epochs (<= max_epochs)
    max_epochs: Count = 40               # early stopping on the (clean) validation loss
    patience: Natural = 5
    eps: tuple[Eps, ...] = (0.05, 0.1, 0.2, 0.3)  # L-inf attack sizes, pixels in [0, 1]
    pgd_steps: Count = 40
    pgd_restarts: Count = 5              # an image counts as robust only if every restart fails
    attack_limit: Count | None = 5000    # a seeded random test subset per seed; None: all 10k
    substitute_seed_offset: Count = 100  # transfer attacks: PGD crafted on a free MLP of seed + offset
    train_limit: Count | None = None     # None: all 54k training images (6k are validation)
    test_limit: Count | None = None
    seeds: Count = 5


_OPTIONS = {"nonneg_output": {"output_constraint": "nonneg"}, "nonneg_all": {"kernel_constraint": "nonneg"}}
_PENALTIES = {"l1": keras.regularizers.L1, "l2": keras.regularizers.L2, "l12": regularizers.L12}


def build(arm, config, seed):
    options = dict(_OPTIONS.get(arm, {}))
    if arm in _PENALTIES:
        options["kernel_regularizer"] = _PENALTIES[arm](config.penalties[arm])
    return _runner.build_mlp(seed, hidden=config.hidden, **options)


def adversarial_fit(model, data, seed, config, attack, eps, batch_size=128, learning_rate=1e-3):
    """Adversarial training with examples crafted per batch against the current weights.

    `fit` cannot craft per batch on every backend (the input gradient would have to live inside
    `train_step`), so this loop calls `train_on_batch` (which syncs the weights each step on
    JAX too); it compiles through the package's `training.compile_model`.

    FGSM (Goodfellow et al.): the full eps from the first batch; early stopping and the kept
    weights follow the clean validation loss. PGD (Madry et al.): the eps grows linearly from 0
    over the first `config.train_pgd_ramp` epochs (at the full eps from the first step, the
    784-256-10 MLP collapsed to chance on MNIST: 11.7% clean, seed 0), and only epochs that
    ended at the full eps are candidates, chosen by the loss on PGD versions of the validation
    set (robust early stopping, Rice et al. 2020). Returns `{"val_loss": [...], "best_epoch": k}`
    plus `"adv_val_loss"` (None during the ramp) for PGD.
    """
    ramp = config.train_pgd_ramp if attack == "pgd" else 0
    recipe = recipe_for("mlp", learning_rate=learning_rate, batch_size=batch_size, schedule="constant")
    batches = -(-len(data.y_train) // batch_size)
    compile_model(model, recipe, batches)
    rng, clean, robust, best_weights = np.random.default_rng(seed), [], [], None
    for epoch in range(config.max_epochs):
        order = rng.permutation(len(data.y_train))
        for step, start in enumerate(range(0, len(order), batch_size)):
            idx = order[start:start + batch_size]
            xb, yb = data.x_train[idx], data.y_train[idx]
            if attack == "fgsm":  # alpha = 0.5: the clean batch and its FGSM version, equally weighted
                x_adv = adversarial.fgsm(model, xb, yb, eps, batch_size=len(idx))
                xb, yb = np.concatenate([xb, x_adv]), np.concatenate([yb, yb])
            else:
                scale = min(1.0, (epoch + step / batches) / ramp) if ramp else 1.0
                xb = adversarial.pgd(model, xb, yb, eps * scale, steps=config.train_pgd_steps,
                                     batch_size=len(idx), seed=seed * 100_003 + epoch * 1009 + start)
            model.train_on_batch(xb, yb)
        clean.append(_loss(model, data.x_val, data.y_val))
        if attack == "pgd":
            robust.append(None if epoch + 1 < ramp else _loss(model, adversarial.pgd(
                model, data.x_val, data.y_val, eps, steps=config.train_pgd_steps, seed=seed), data.y_val))
        losses = robust if attack == "pgd" else clean
        scored = [(loss, k) for k, loss in enumerate(losses) if loss is not None]
        if not scored:
            continue
        best, best_epoch = min(scored)
        if best_epoch == epoch:
            best_weights = model.get_weights()
        elif epoch - best_epoch >= config.patience:
            break
    model.set_weights(best_weights)
    history = {"val_loss": clean, "best_epoch": best_epoch + 1}
    return history | ({"adv_val_loss": robust} if attack == "pgd" else {})


def _loss(model, x, y):
    return float(model.evaluate(x, y, batch_size=512, verbose=0, return_dict=True)["loss"])


def train(arm, config, data, dataset, seed):
    """`(model, history)`: history holds the per-epoch `val_loss` and the kept `best_epoch`."""
    model = build(arm, config, seed)
    if arm.startswith("adv_"):
        return model, adversarial_fit(model, data, seed, config, arm[4:], config.train_eps[dataset])
    history, best = _runner.fit_to_convergence(model, data, seed, config.patience, config.max_epochs, learning_rate=1e-3)
    return model, {"val_loss": history["val_loss"], "best_epoch": best + 1}


@register
class Robustness(Experiment):
    name = "robustness"
    title = "Robustness: FGSM, PGD and transfer attacks on free, sparse, positive and adversarially trained nets"
    question = ("Are sparse (L1, L1/2) or positive networks more robust to FGSM / PGD than a free one "
                "or an L2 one, and how do they compare with adversarial training (Goodfellow et al. "
                "2015, Madry et al. 2018)? (seminar 000: robustness, Romano et al. 2020)")
    config = Config()
    smoke = dict(datasets=("mnist",), arms=("free", "l12", "adv_fgsm", "adv_pgd"), train_pgd_steps=2,
                 train_pgd_ramp=1, max_epochs=1, patience=1, eps=(0.1, 0.3), pgd_steps=2, pgd_restarts=2,
                 attack_limit=64, train_limit=256, test_limit=128, seeds=2)
    headline = ("test_accuracy",)

    def check(self, config):
        if "adv_pgd" in config.arms and config.train_pgd_ramp > config.max_epochs:
            raise UsageError(f"Expected train_pgd_ramp <= max_epochs ({config.max_epochs}). "
                             f"Received: train_pgd_ramp={config.train_pgd_ramp}")
        for name, table, needed in (("penalties", config.penalties, [a for a in config.arms if a in _PENALTIES]),
                                    ("train_eps", config.train_eps, config.datasets if any(
                                        a.startswith("adv_") for a in config.arms) else [])):
            if any(k not in table for k in needed):
                raise UsageError(f"Expected {name} to hold a value for each of {list(needed)}. "
                                 f"Received: {name}={table!r}")

    def plan(self, config, seeds):
        for dataset in config.datasets:
            for seed in seeds:
                for arm in config.arms:
                    yield {"dataset": dataset, "arm": arm}, seed

    def run_arm(self, config, arm, seed, data):
        attacked = _attacks.attack_set(self, (arm["dataset"], seed), config, data, seed, lambda substitute_seed: train(
            "free", config, data, arm["dataset"], substitute_seed)[0])
        model, history = train(arm["arm"], config, data, arm["dataset"], seed)
        return dict(**history, epochs_run=len(history["val_loss"]),
                    test_accuracy=_runner.accuracy(model, data.x_test, data.y_test),
                    **_attacks.measure(config, model, attacked, seed))

    def render(self, config, results, report):
        _robustness_render.render(config, results, report)
