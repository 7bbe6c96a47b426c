"""The positivity hypothesis: can non-negative nets classify, and are they more robust?"""

import dataclasses

import keras
import numpy as np

from experiments import _runner
from keras_seminar import adversarial
from keras_seminar.models import build_model

TITLE = "Positivity: free vs non-negative weights"
QUESTION = ("Can networks whose weights are all non-negative (or whose hidden->output weights "
            "are) still learn MNIST / Fashion-MNIST, and are they harder to fool with FGSM/PGD? "
            "(seminar 000, 'Kutatási pontok': test the positivity hypothesis)")


@dataclasses.dataclass
class Config:
    datasets: tuple = ("mnist", "fashion_mnist")
    archs: tuple = ("mlp", "cnn")        # mlp: 784-256-10 ReLU; cnn: conv5x5 16/32 + dense 128
    # free; all kernels >= 0 ("nonneg"); only the hidden->output kernel >= 0.
    variants: tuple = ("free", "nonneg_all", "nonneg_output")
    train_limit: int = 5000             # random training slice per run
    test_limit: int = 500               # attacked test images
    epochs: int = 3
    eps: float = 0.1                     # headline attack size (L-inf, pixels in [0, 1])
    eps_list: tuple = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2)
    pgd_steps: int = 10
    seeds: int = 2
    scale: str = "5k-image random training slices, 3 epochs (Adam 1e-3), 500 attacked test images"


CONFIG = Config()
SMOKE = Config(datasets=("mnist",), archs=("mlp",), variants=("free", "nonneg_output"),
               train_limit=256, test_limit=64, epochs=1, eps_list=(0.0, 0.1), pgd_steps=2,
               seeds=1, scale="smoke: 256 images, 1 epoch")

_OPTIONS = {"free": {}, "nonneg_all": {"kernel_constraint": "nonneg"},
            "nonneg_output": {"output_constraint": "nonneg"}}


def build(arch, variant):
    options = _OPTIONS[variant]
    if arch == "mlp":
        return _runner.mlp(kernel_constraint=options.get("kernel_constraint"),
                           output_constraint=options.get("output_constraint"))
    return build_model("cnn", filters=(16, 32), dense_units=128, dropout=0.25, **options)


def run(config, report, seeds):
    rows, curves = [], {}
    for dataset in config.datasets:
        for seed in seeds:
            data = _runner.load(dataset, config.train_limit, config.test_limit, seed=seed)
            x_test, y_test = data[4], data[5]
            for arch in config.archs:
                for variant in config.variants:
                    keras.utils.set_random_seed(seed)
                    model = build(arch, variant)
                    _runner.fit(model, data, config.epochs)
                    fg = adversarial.robustness_curve(model, x_test, y_test, config.eps_list, "fgsm")
                    pg = adversarial.robustness_curve(model, x_test, y_test, [config.eps], "pgd",
                                                      steps=config.pgd_steps, seed=seed)
                    fg_at = np.interp(config.eps, fg["eps"], fg["accuracy"])
                    key = (dataset, arch, variant)
                    curves.setdefault(key, []).append(fg["accuracy"])
                    rows.append((*key, seed, fg["accuracy"][0], fg_at, pg["accuracy"][0]))
    table = []
    for key in curves:
        r = np.array([row[4:] for row in rows if row[:3] == key])
        table.append((*key, _runner.mean_std(r[:, 0]), _runner.mean_std(r[:, 1]), _runner.mean_std(r[:, 2])))
    report.table(["dataset", "arch", "variant", "clean acc", f"FGSM acc (eps={config.eps})",
                  f"PGD-{config.pgd_steps} acc (eps={config.eps})"], table,
                 title="Test accuracy (mean ± std over seeds)")
    for dataset in config.datasets:
        for arch in config.archs:
            got = {row[2]: row for row in table if row[:2] == (dataset, arch)}
            free = got.get("free")
            for variant in config.variants[1:]:
                if variant in got and free:
                    report.finding(f"{dataset}/{arch}: {variant} clean {got[variant][3]} vs free "
                                   f"{free[3]}; PGD@{config.eps} {got[variant][5]} vs free {free[5]}.")
    fig, axes = _runner.figure(ncols=len(config.archs), nrows=len(config.datasets))
    for i, (dataset, arch) in enumerate((d, a) for d in config.datasets for a in config.archs):
        for variant in config.variants:
            if (dataset, arch, variant) in curves:
                axes[i].plot(config.eps_list, np.mean(curves[(dataset, arch, variant)], 0), "o-", label=variant)
        axes[i].set(title=f"{dataset} / {arch}", xlabel="FGSM eps", ylabel="accuracy", ylim=(0, 1))
        axes[i].legend(fontsize=7)
    report.save_figure(fig, "fgsm", "FGSM accuracy vs eps for free and non-negative variants.")
