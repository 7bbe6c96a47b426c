"""FGSM and PGD robustness curves of free, sparse, positive and adversarially trained MLPs."""

import dataclasses

import keras
import numpy as np

from experiments import _report, _runner, stats
from keras_seminar import adversarial, regularizers

TITLE = "Robustness: FGSM and PGD curves of free, sparse and positive nets"
QUESTION = ("Are sparse (L1/2) or positive (non-negative hidden->output) networks more robust to "
            "FGSM / PGD than a free one? Adversarial training (Goodfellow et al. 2015) is the "
            "reference. (seminar 000: robustness, Romano et al. 2020)")


@dataclasses.dataclass
class Config:
    dataset: str = "mnist"
    hidden: tuple = (256,)               # MLP 784-256-10 ReLU, Adam 1e-3
    # variant -> MLP options; "adv_fgsm" trains with 50% FGSM examples at adv_eps.
    variants: tuple = ("free", "sparse_l12", "positive_output", "nonneg_all", "adv_fgsm")
    l12: float = 1e-4
    adv_eps: float = 0.1
    eps_list: tuple = (0.0, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25)
    pgd_steps: int = 10
    train_limit: int = 5000
    test_limit: int = 500
    epochs: int = 3
    seeds: int = 2
    scale: str = "MLP 784-256-10 on 5k MNIST images, 3 epochs; 500 attacked test images"


CONFIG = Config()
SMOKE = Config(variants=("free", "adv_fgsm"), eps_list=(0.0, 0.1), pgd_steps=2, train_limit=256,
               test_limit=64, epochs=1, seeds=1, scale="smoke: 256 images, 1 epoch")


def train(variant, config, data, seed):
    options = {"sparse_l12": {"kernel_regularizer": regularizers.L12(config.l12)},
               "positive_output": {"output_constraint": "nonneg"},
               "nonneg_all": {"kernel_constraint": "nonneg"}}.get(variant, {})
    model = _runner.build_mlp(seed, hidden=config.hidden, **options)
    if variant != "adv_fgsm":
        _runner.fit(model, data, seed, epochs=config.epochs)
        return model
    # Left for issue 18: adversarial training feeds a PyDataset that re-crafts its examples each
    # epoch, which `training.fit_arrays` (arrays in) does not take; it compiles here instead.
    adv = adversarial.AdversarialTraining(data.x_train, data.y_train, eps=config.adv_eps, ratio=0.5, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(adv.dataset, epochs=config.epochs, callbacks=[adv], verbose=0)
    return model


def run(config, report, seeds):
    curves = {}
    for seed in seeds:
        data = _runner.load(config.dataset, seed, config.train_limit, val_limit=2000, test_limit=config.test_limit)
        for variant in config.variants:
            model = train(variant, config, data, seed)
            for attack, options in (("fgsm", {}), ("pgd", {"steps": config.pgd_steps, "seed": seed})):
                curve = adversarial.robustness_curve(model, data.x_test, data.y_test, config.eps_list, attack, **options)
                curves.setdefault((attack, variant), []).append(curve["accuracy"])
    fig, axes = _report.figure(ncols=2)
    for ax, attack in zip(axes, ("fgsm", "pgd")):
        for variant in config.variants:
            ax.plot(config.eps_list, np.mean(curves[(attack, variant)], 0), "o-", label=variant)
        ax.set(title=attack.upper(), xlabel="eps (L-inf)", ylabel="test accuracy", ylim=(0, 1))
        ax.legend(fontsize=7)
    report.save_figure(fig, "curves", "Accuracy under attack vs eps (mean over seeds).")
    for attack in ("fgsm", "pgd"):
        rows = [(v, *(str(stats.mean_ci(np.array(curves[(attack, v)])[:, i])) for i in range(len(config.eps_list))))
                for v in config.variants]
        report.table(["variant", *(f"eps={e:g}" for e in config.eps_list)], rows,
                     title=f"{attack.upper()} accuracy" + (f" ({config.pgd_steps} steps)" if attack == "pgd" else ""))
    i = int(np.argmin(np.abs(np.array(config.eps_list) - config.adv_eps)))
    for variant in config.variants:
        report.finding(f"{variant}: clean {np.mean(curves[('fgsm', variant)], 0)[0]:.3f}, "
                       f"FGSM@{config.eps_list[i]:g} {np.mean(curves[('fgsm', variant)], 0)[i]:.3f}, "
                       f"PGD@{config.eps_list[i]:g} {np.mean(curves[('pgd', variant)], 0)[i]:.3f}.")
