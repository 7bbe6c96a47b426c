"""The information plane (Shwartz-Ziv & Tishby 2017) of tanh vs ReLU MLPs."""

import dataclasses
import os

import numpy as np

from experiments import _runner
from keras_seminar.callbacks import InformationPlane

TITLE = "Information plane: tanh vs ReLU"
QUESTION = ("Do the hidden layers first fit (I(T;Y) rises) and then compress (I(X;T) falls), as "
            "Shwartz-Ziv & Tishby (2017) report for tanh nets, and does ReLU compress too "
            "(Saxe et al. 2018 say no)? (seminar 000, point (3))")


@dataclasses.dataclass
class Config:
    dataset: str = "mnist"
    hidden: tuple = (32, 16, 8)          # narrowing MLP, as in the paper's 12-10-7-5-4-3-2
    activations: tuple = ("tanh", "relu")
    bins: int = 30                       # binning estimator, per-layer range
    sample: int = 2000                   # fixed test sample the informations are estimated on
    train_limit: int = 5000
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 1e-3
    seeds: int = 1
    scale: str = "MLP 784-32-16-8-10 on 5k MNIST images, 30 epochs; MI on 2000 test images, 30 bins"


CONFIG = Config()
SMOKE = Config(activations=("tanh",), sample=128, train_limit=256, epochs=2, scale="smoke: 256 images, 2 epochs")


def run(config, report, seeds):
    rows = []
    for activation in config.activations:
        for seed in seeds:
            data = _runner.load(config.dataset, seed, config.train_limit, val_limit=2000, test_limit=config.sample)
            model = _runner.build_mlp(seed, hidden=config.hidden, activation=activation)
            plane = InformationPlane(None, data.x_test, data.y_test, bins=config.bins)
            _runner.fit(model, data, seed, callbacks=[plane], epochs=config.epochs,
                        batch_size=config.batch_size, learning_rate=config.learning_rate)
            ixt, ity = np.array(plane.history["I_XT"]), np.array(plane.history["I_TY"])
            path = plane.save(report.out)
            name = f"{report.name}_{activation}_seed{seed}.png"
            os.replace(path, os.path.join(report.out, name))
            for ext in ("npz", "json"):
                os.remove(os.path.join(report.out, f"information_plane.{ext}"))
            report.image(name, f"{activation}, seed {seed}: I(X;T) vs I(T;Y) per layer, colour = epoch.")
            for j, layer in enumerate(plane.layer_names):
                peak = int(np.argmax(ixt[:, j]))
                rows.append((activation, seed, layer, f"{ixt[0, j]:.2f}", f"{ixt[peak, j]:.2f} (epoch {peak + 1})",
                             f"{ixt[-1, j]:.2f}", f"{ity[-1, j]:.2f}"))
            last = len(plane.layer_names) - 1
            drop = ixt[:, last].max() - ixt[-1, last]
            report.finding(f"{activation} seed {seed}: last hidden layer I(X;T) peaks at {ixt[:, last].max():.2f} "
                           f"bits and ends at {ixt[-1, last]:.2f} (compression {drop:.2f} bits); "
                           f"I(T;Y) ends at {ity[-1, last]:.2f} bits (H(Y) <= {np.log2(10):.2f}).")
    report.table(["activation", "seed", "layer", "I(X;T) epoch 1", "I(X;T) max", "I(X;T) last",
                  "I(T;Y) last"], rows, title="Binned mutual information (bits)")
