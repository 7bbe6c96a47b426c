"""One wide hidden layer vs several narrower ones at an equal parameter count."""

import dataclasses
import math

import keras
import numpy as np

from experiments import _runner

TITLE = "Depth at equal parameter count"
QUESTION = ("One hidden layer is enough in theory (Cybenko 1989, Hornik 1991); at the same "
            "number of parameters, do 2-4 narrower layers classify better? (seminar 000: "
            "'Szükség van egy teljesen kapcsolt hálóban több, mint egy réteg?')")


@dataclasses.dataclass
class Config:
    dataset: str = "fashion_mnist"
    params: int = 100_000                # parameter budget of every MLP (ReLU, Adam 1e-3)
    depths: tuple = (1, 2, 3, 4)
    train_limit: int = 5000
    test_limit: int = 5000
    epochs: int = 3
    seeds: int = 2
    scale: str = "~100k-parameter MLPs on 5k Fashion-MNIST images, 3 epochs; 5000 test images"


CONFIG = Config()
SMOKE = Config(params=5000, depths=(1, 2), train_limit=256, test_limit=128, epochs=1, seeds=1,
               scale="smoke: 256 images, 1 epoch")


def width_for(depth, params, inputs=784, classes=10):
    """The width w with depth layers of w units closest to `params` parameters (biases included)."""
    # (depth - 1) w^2 + (inputs + classes + depth) w + classes = params
    a, b, c = depth - 1, inputs + classes + depth, classes - params
    w = -c / b if a == 0 else (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    return max(1, round(w))


def run(config, report, seeds):
    rows, accs = [], {}
    for depth in config.depths:
        width = width_for(depth, config.params)
        for seed in seeds:
            data = _runner.load(config.dataset, config.train_limit, config.test_limit, seed=seed)
            keras.utils.set_random_seed(seed)
            model = _runner.mlp((width,) * depth)
            history = _runner.fit(model, data, config.epochs)
            accs.setdefault(depth, []).append(_runner.accuracy(model, data[4], data[5]))
        rows.append((depth, width, model.count_params(), _runner.mean_std(accs[depth]),
                     f"{history['accuracy'][-1]:.4f}"))
    report.table(["hidden layers", "width", "parameters", "test acc", "train acc (last seed)"], rows)
    fig, (ax,) = _runner.figure()
    ax.errorbar(list(accs), [np.mean(a) for a in accs.values()], [np.std(a) for a in accs.values()], fmt="o-")
    ax.set(xlabel="hidden layers (equal parameters)", ylabel="test accuracy", title=f"~{config.params} parameters")
    report.save_figure(fig, "accuracy", "Test accuracy vs depth at equal parameter count.")
    best = max(accs, key=lambda d: np.mean(accs[d]))
    report.finding(f"Best: {best} hidden layer(s), {np.mean(accs[best]):.4f}; one layer: "
                   f"{np.mean(accs[config.depths[0]]):.4f} (difference "
                   f"{np.mean(accs[best]) - np.mean(accs[config.depths[0]]):+.4f}).")
