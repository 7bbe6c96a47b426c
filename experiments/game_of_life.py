"""Reverse Game of Life: predict the start board from the stop board and delta."""

import dataclasses

import keras
import numpy as np

from experiments import _report
from keras_seminar.datasets import game_of_life

TITLE = "Reverse Game of Life: a CNN baseline"
QUESTION = ("How well does a small convolutional net invert Conway's Game of Life (Kaggle's "
            "'Conway's Reverse Game of Life 2020'), scored by the mean absolute error over cells, "
            "against the trivial baselines 'start = stop' and 'all dead'? (seminar 000, data sets)")


@dataclasses.dataclass
class Config:
    train: int = 5000                    # generated games (Kaggle recipe, 25x25 torus)
    test: int = 2000
    filters: int = 32
    layers: int = 5                      # 3x3 convs; the board is wrap-padded so edges see the torus
    epochs: int = 3
    batch_size: int = 128
    learning_rate: float = 2e-3
    seeds: int = 1
    scale: str = "5k generated games, 5x conv3x3(32) CNN, 3 epochs; 2000 test games"


CONFIG = Config()
SMOKE = Config(train=256, test=64, filters=8, layers=2, epochs=1, scale="smoke: 256 games, 1 epoch")


def features(stop, delta, pad):
    """(N, 25+2p, 25+2p, 6): the wrap-padded stop board and a one-hot of delta as constant planes."""
    board = np.pad(stop, ((0, 0), (pad, pad), (pad, pad)), mode="wrap").astype("float32")[..., None]
    planes = np.eye(5, dtype="float32")[delta - 1][:, None, None, :]
    return np.concatenate([board, np.broadcast_to(planes, board.shape[:3] + (5,))], axis=-1)


def build(config):
    inputs = keras.Input((None, None, 6), name="stop_and_delta")
    x = inputs
    for i in range(config.layers):  # "valid" convs shrink the padded board back to 25 x 25
        x = keras.layers.Conv2D(config.filters, 3, activation="relu", name=f"conv{i + 1}")(x)
    outputs = keras.layers.Conv2D(1, 1, activation="sigmoid", name="start")(x)
    return keras.Model(inputs, outputs, name="reverse_life")


def _mae(guess, truth):
    return f"{np.mean(np.abs(guess.astype(int) - truth)):.4f}"


def run(config, report, seeds):
    rows = []
    for seed in seeds:
        start, stop, delta = game_of_life.generate(config.train + config.test, seed=seed)
        x = features(stop, delta, config.layers)
        y = start[..., None].astype("float32")
        n = config.train
        keras.utils.set_random_seed(seed)
        model = build(config)
        # Per-cell binary targets on a board, not a classifier: the package's fit path
        # (`training.fit_arrays`, sparse categorical cross-entropy) does not apply.
        model.compile(keras.optimizers.Adam(config.learning_rate), "binary_crossentropy")
        model.fit(x[:n], y[:n], batch_size=config.batch_size, epochs=config.epochs, verbose=0)
        pred = (model.predict(x[n:], batch_size=256, verbose=0)[..., 0] > 0.5).astype(np.uint8)
        truth, last, d = start[n:], stop[n:], delta[n:]
        for k in [None, 1, 2, 3, 4, 5]:
            m = np.ones(len(d), bool) if k is None else d == k
            scores = [_mae(guess[m], truth[m]) for guess in (pred, last, np.zeros_like(last))]
            rows.append((seed, "all" if k is None else k, int(m.sum()), *scores))
    report.table(["seed", "delta", "games", "CNN MAE", "start = stop MAE", "all dead MAE"], rows,
                 title="Mean absolute error over cells (Kaggle's score; lower is better)")
    overall = [r for r in rows if r[1] == "all"][0]
    report.finding(f"CNN MAE {overall[3]} vs 'start = stop' {overall[4]} and 'all dead' {overall[5]} "
                   f"on {overall[2]} test games (seed {overall[0]}).")
    fig, axes = _report.figure(ncols=4, width=2.2, height=2.4)
    i = int(np.argmax(d == 1))
    for ax, (title, board) in zip(axes, (("stop (delta=1)", last[i]), ("true start", truth[i]),
                                         ("CNN start", pred[i]), ("errors", pred[i] != truth[i]))):
        ax.imshow(board, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    report.save_figure(fig, "example", "One test game: the CNN's guess of the start board and its errors.")
