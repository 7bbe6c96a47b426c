"""Sparsifying regularizers: accuracy vs fraction of (near-)zero weights, and pruning a trained net."""

import dataclasses

import keras
import numpy as np

from experiments import _report, _runner, stats
from keras_seminar import regularizers
from keras_seminar.callbacks import SparsityMonitor

TITLE = "Sparsity: L1 vs L1/2 vs group lasso"
QUESTION = ("How much accuracy does each sparsifying regularizer (L1, smoothed L1/2, group lasso) "
            "give up for how many (near-)zero weights, and can a pre-trained dense model be "
            "sparsified by fine-tuning with L1/2 and pruning? (seminar 000, 'Ritka reprezentáció')")


@dataclasses.dataclass
class Config:
    dataset: str = "fashion_mnist"
    hidden: tuple = (256,)               # MLP 784-256-10, ReLU, Adam 1e-3
    # lambda grid per regularizer (the penalty is summed over all kernel entries).
    grid: dict = dataclasses.field(default_factory=lambda: {
        "l1": (1e-5, 1e-4, 1e-3), "l12": (1e-5, 1e-4, 1e-3),
        "group_lasso": (1e-4, 1e-3, 1e-2)})
    threshold: float = 1e-2              # |w| < threshold counts as near-zero (and gets pruned)
    train_limit: int = 5000
    test_limit: int = 2000
    epochs: int = 3
    finetune_factor: float = 1e-4        # L1/2 strength for sparsifying the pre-trained model
    finetune_epochs: int = 3
    seeds: int = 2
    scale: str = "MLP 784-256-10 on 5k Fashion-MNIST images, 3 epochs (Adam 1e-3); 2000 test images"


CONFIG = Config()
SMOKE = Config(grid={"l12": (1e-4,)}, train_limit=256,
               test_limit=128, epochs=1, finetune_epochs=1, seeds=1, scale="smoke: 256 images, 1 epoch")

_MAKERS = {"l1": keras.regularizers.L1, "l12": regularizers.L12, "group_lasso": regularizers.GroupLasso}


def pruned(model, threshold):
    """Sets |w| < threshold to 0 in every kernel; returns the fraction of kernel entries zeroed."""
    zeros = total = 0
    for layer in model.layers:
        if getattr(layer, "kernel", None) is not None:
            w = keras.ops.convert_to_numpy(layer.kernel)
            mask = np.abs(w) < threshold
            layer.kernel.assign(np.where(mask, 0.0, w))
            zeros, total = zeros + mask.sum(), total + mask.size
    return zeros / total


def evaluate(model, data, threshold):
    acc = _runner.accuracy(model, data.x_test, data.y_test)
    sparsity = pruned(model, threshold)
    return acc, sparsity, _runner.accuracy(model, data.x_test, data.y_test)


def run(config, report, seeds):
    rows = []
    for seed in seeds:
        data = _runner.load(config.dataset, seed, config.train_limit, val_limit=2000, test_limit=config.test_limit)
        model = _runner.build_mlp(seed, hidden=config.hidden)
        _runner.fit(model, data, seed, epochs=config.epochs)
        rows.append(("none", 0.0, seed, *evaluate(model, data, config.threshold)))
        for name, factors in config.grid.items():
            for factor in factors:
                model = _runner.build_mlp(seed, hidden=config.hidden, kernel_regularizer=_MAKERS[name](factor))
                _runner.fit(model, data, seed, epochs=config.epochs)
                rows.append((name, factor, seed, *evaluate(model, data, config.threshold)))
    table = []
    for key in dict.fromkeys(r[:2] for r in rows):
        r = np.array([row[3:] for row in rows if row[:2] == key])
        table.append((key[0], f"{key[1]:g}", *(str(stats.mean_ci(r[:, i])) for i in range(3))))
    report.table(["regularizer", "lambda", "test acc", f"fraction |w| < {config.threshold:g}",
                  "test acc after pruning them"], table, title="Strength grid (mean ± 95% CI over seeds)")
    fig, (ax,) = _report.figure(width=5.5, height=4)
    for name in ("none", *config.grid):
        pts = np.array([[float(t[4].split()[0]), float(t[3].split()[0])] for t in table if t[0] == name])
        ax.plot(pts[:, 1], pts[:, 0], "o-" if name != "none" else "k*", label=name, markersize=8)
    ax.set(xlabel=f"fraction of weights |w| < {config.threshold:g}", ylabel="test accuracy (pruned)",
           title="Accuracy vs sparsity")
    ax.legend()
    report.save_figure(fig, "pareto", "Accuracy after pruning vs sparsity; up and right is better.")
    for name in config.grid:
        best = max((t for t in table if t[0] == name), key=lambda t: float(t[3].split()[0]))
        report.finding(f"{name}: sparsest setting lambda={best[1]} zeroes {best[3]} of the weights "
                       f"at test accuracy {best[4]} after pruning (no regularizer: "
                       f"{table[0][3]} zero, accuracy {table[0][4]}).")
    finetune(config, report, seeds[0])


def finetune(config, report, seed):
    """Pre-train free, fine-tune with L1/2, prune; vs pruning the free model at the same sparsity."""
    data = _runner.load(config.dataset, seed, config.train_limit, val_limit=2000, test_limit=config.test_limit)
    model = _runner.build_mlp(seed, hidden=config.hidden)
    _runner.fit(model, data, seed, epochs=config.epochs)
    free = [keras.ops.convert_to_numpy(v) for v in model.weights]
    base_acc = _runner.accuracy(model, data.x_test, data.y_test)
    tuned = _runner.build_mlp(seed, hidden=config.hidden, kernel_regularizer=regularizers.L12(config.finetune_factor))
    tuned.set_weights(free)
    monitor = SparsityMonitor(data.x_train[:256], eps=config.threshold)
    _runner.fit(tuned, data, seed, callbacks=[monitor], epochs=config.finetune_epochs)
    acc, sparsity, acc_pruned = evaluate(tuned, data, config.threshold)
    # Magnitude pruning of the free model to the same fraction of zeros.
    all_w = np.concatenate([np.abs(w).ravel() for w in free if w.ndim == 2])
    cut = np.quantile(all_w, sparsity)
    model.set_weights(free)
    pruned(model, cut)
    rows = [("pre-trained (free)", f"{base_acc:.4f}", "-", "-"),
            (f"fine-tuned with L1/2 ({config.finetune_factor:g}), pruned |w|<{config.threshold:g}",
             f"{acc:.4f}", f"{sparsity:.3f}", f"{acc_pruned:.4f}"),
            ("free, magnitude-pruned to the same sparsity", "-", f"{sparsity:.3f}",
             f"{_runner.accuracy(model, data.x_test, data.y_test):.4f}")]
    report.table(["model", "test acc", "fraction zeroed", "test acc pruned"], rows,
                 title=f"Sparsifying a pre-trained model (seed {seed}, {config.finetune_epochs} epochs)")
    report.finding("Caveat: the fine-tuned model trained for more epochs in total than the pre-trained one.")
    report.finding(f"Fine-tuning with L1/2 then pruning: {sparsity:.1%} of weights zeroed at accuracy "
                   f"{acc_pruned:.4f} (pre-trained {base_acc:.4f}; plain magnitude pruning to the same "
                   f"sparsity: {rows[2][3]}).")
    fig, (ax,) = _report.figure()
    for layer, values in monitor.history["weights"].items():
        ax.plot(np.arange(1, len(values) + 1), values, "o-", label=layer)
    ax.set(xlabel="fine-tuning epoch", ylabel=f"fraction |w| < {config.threshold:g}",
           title="SparsityMonitor during L1/2 fine-tuning")
    ax.legend()
    report.save_figure(fig, "finetune", "Weight sparsity per layer while fine-tuning with L1/2.")
