"""Receptive fields: first-layer filters of free, sparse (L1/2) and non-negative nets as images."""

import dataclasses

import keras
import numpy as np

from experiments import _report, _runner
from keras_seminar import regularizers
from keras_seminar.models import build_model

TITLE = "Receptive fields of free vs sparse vs non-negative nets"
QUESTION = ("What do the first-layer feature detectors look like when the weights are free, "
            "sparsified with L1/2, or non-negative - do sparse nets learn localized, "
            "Olshausen-Field-like fields? (seminar 000, 'Biológiai hasonlat')")


@dataclasses.dataclass
class Config:
    dataset: str = "fashion_mnist"
    # variant -> kernel options, applied to an MLP 784-64-10 and the CNN 16/32/128 (conv1 5x5).
    variants: tuple = ("free", "l12", "nonneg")
    l12: float = 3e-4
    units: int = 64                      # hidden units shown, one 28x28 field each
    threshold: float = 1e-2
    train_limit: int = 5000
    epochs: int = 3
    seeds: int = 1
    scale: str = "MLP 784-64-10 and CNN conv1 16x5x5 on 5k Fashion-MNIST images, 3 epochs"


CONFIG = Config()
SMOKE = Config(variants=("l12",), units=16, train_limit=256, epochs=1, scale="smoke: 256 images, 1 epoch")


def _options(variant, config):
    if variant == "l12":
        return {"kernel_regularizer": regularizers.L12(config.l12)}
    return {"kernel_constraint": "nonneg"} if variant == "nonneg" else {}


def run(config, report, seeds):
    seed = seeds[0]
    data = _runner.load(config.dataset, seed, config.train_limit, val_limit=2000, test_limit=2000)
    fig, axes = _report.figure(ncols=len(config.variants), nrows=2, width=3.4, height=3.6)
    rows = []
    for i, variant in enumerate(config.variants):
        mlp = _runner.build_mlp(seed, hidden=(config.units,), **_options(variant, config))
        _runner.fit(mlp, data, seed, validation=False, epochs=config.epochs)
        w = _runner.kernels(mlp)["fc1"].T.reshape(-1, 28, 28)
        _report.image_grid(axes[i], w, cols=8, title=f"MLP fc1, {variant}")
        keras.utils.set_random_seed(seed)
        cnn = build_model("cnn", filters=(16, 32), dense_units=128, dropout=0.25, **_options(variant, config))
        _runner.fit(cnn, data, seed, validation=False, model_name="cnn", epochs=config.epochs,
                    learning_rate=1e-3, schedule="constant")
        k = _runner.kernels(cnn)["conv1"][:, :, 0, :].transpose(2, 0, 1)
        _report.image_grid(axes[len(config.variants) + i], k, cols=4, title=f"CNN conv1, {variant}")
        rows.append((variant, f"{_runner.accuracy(mlp, data.x_test, data.y_test):.4f}",
                     f"{np.mean(np.abs(w) < config.threshold):.3f}",
                     f"{_runner.accuracy(cnn, data.x_test, data.y_test):.4f}",
                     f"{np.mean(np.abs(k) < config.threshold):.3f}"))
    report.save_figure(fig, "filters", "First-layer weights (red +, blue -, each scaled to its own max).")
    report.table(["variant", "MLP test acc", f"MLP fc1 |w| < {config.threshold:g}", "CNN test acc",
                  f"CNN conv1 |w| < {config.threshold:g}"], rows)
    for row in rows:
        report.finding(f"{row[0]}: {row[2]} of the MLP's first-layer weights near zero "
                       f"(test acc {row[1]}); CNN conv1 {row[4]} (test acc {row[3]}).")
