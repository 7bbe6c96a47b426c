"""Goodfellow et al., Deep Learning, Fig. 8.1: the gradient norm grows while validation error falls."""

import dataclasses

import keras
import numpy as np

from experiments import _runner
from keras_seminar.callbacks import GradientNormMonitor, plots
from keras_seminar.models import build_model

TITLE = "Gradient norms grow while the validation error falls (Deep Learning, Fig. 8.1)"
QUESTION = ("Does the gradient norm shrink as training converges, or does it grow while the "
            "validation error still falls, as in Goodfellow, Bengio & Courville (2016), Fig. 8.1? "
            "(seminar 000, point (1))")


@dataclasses.dataclass
class Config:
    dataset: str = "fashion_mnist"
    # The TF-tutorial CNN, narrowed to fit a CPU: conv5x5 16/32 + dense 128, dropout 0.25.
    filters: tuple = (16, 32)
    dense_units: int = 128
    optimizer: str = "sgd"               # SGD + Nesterov momentum 0.9 (the package's "sgd"), constant rate
    learning_rate: float = 0.01
    batch_size: int = 64
    train_limit: int = 10000
    epochs: int = 6
    every_n_steps: int = 25              # gradient norm on a fixed 256-image probe batch
    seeds: int = 1
    scale: str = "CNN 16/32/128 on 10k Fashion-MNIST images, 6 epochs of SGD (momentum 0.9, lr 0.01)"


CONFIG = Config()
SMOKE = Config(train_limit=256, epochs=2, every_n_steps=2, scale="smoke: 256 images, 2 epochs")


def run(config, report, seeds):
    rows = []
    for seed in seeds:
        data = _runner.load(config.dataset, seed, config.train_limit, val_limit=1000)
        keras.utils.set_random_seed(seed)
        model = build_model("cnn", filters=config.filters, dense_units=config.dense_units, dropout=0.25)
        monitor = GradientNormMonitor(data.x_train[:256], data.y_train[:256], every_n_steps=config.every_n_steps)
        _runner.fit(model, data, seed, callbacks=[monitor], model_name="cnn", epochs=config.epochs,
                    steps_per_execution=1, batch_size=config.batch_size, learning_rate=config.learning_rate,
                    optimizer=config.optimizer, schedule="constant")
        h = monitor.history
        norms = plots.running_mean(h["global_norm"], 10)
        k = max(1, len(norms) // 10)
        rows.append((seed, f"{np.mean(h['global_norm'][:k]):.3f}", f"{np.max(norms):.3f}",
                     f"{np.mean(h['global_norm'][-k:]):.3f}", f"{h['val_error'][0]:.4f}",
                     f"{h['val_error'][-1]:.4f}"))
        path = plots.plot_gradient_norms(f"{report.out}/{report.name}_seed{seed}.png", h["steps"],
                                         h["global_norm"], h["val_error"])
        report.image(path.rsplit("/", 1)[-1], (f"Seed {seed}: gradient norm per probe (left), "
                                               "validation error per epoch (right)."))
        report.finding(f"seed {seed}: gradient norm {rows[-1][1]} (first 10% of probes) -> "
                       f"{rows[-1][3]} (last 10%), peak running mean {rows[-1][2]}; validation error "
                       f"{rows[-1][4]} -> {rows[-1][5]}.")
    report.table(["seed", "grad norm, first 10%", "peak running mean", "grad norm, last 10%",
                  "val error, epoch 1", "val error, last epoch"], rows)
