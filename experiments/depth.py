"""One wide hidden layer vs several narrower ones at an equal parameter count, trained to convergence."""

import dataclasses
import math

from keras_seminar.experiments import _report, _runner, stats
from keras_seminar.experiments._config import Count, Dataset, Natural, Positive
from keras_seminar.experiments._protocol import Experiment, register

__all__ = ["Config", "Depth", "width_for"]


@dataclasses.dataclass
class Config:
    datasets: tuple[Dataset, ...] = ("mnist", "fashion_mnist")
    params: tuple[Count, ...] = (100_000, 1_000_000)  # parameter budgets (weights + biases) of every MLP
    depths: tuple[Count, ...] = (1, 2, 4)  # hidden layers of equal width, ReLU
    learning_rate: Positive = 1e-3         # Adam, constant rate, batch 128 (the zoo mlp recipe)
    batch_size: Count = 128
    max_epochs: Count = 60                 # early stopping on the validation loss ends runs first
    patience: Natural = 5                  # epochs without a lower val_loss; the best weights are kept
    train_limit: Count | None = None       # None: all 54k training images (6k are validation)
    test_limit: Count | None = None        # None: all 10k test images
    seeds: Count = 5


def width_for(depth, params, inputs=784, classes=10):
    """The width w with depth layers of w units closest to `params` parameters (biases included)."""
    # (depth - 1) w^2 + (inputs + classes + depth) w + classes = params
    a, b, c = depth - 1, inputs + classes + depth, classes - params
    w = -c / b if a == 0 else (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    return max(1, round(w))


@register
class Depth(Experiment):
    name = "depth"
    title = "Depth at equal parameter count"
    question = ("One hidden layer is enough in theory (Cybenko 1989, Hornik 1991); at the same "
                "number of parameters, do 2-4 narrower layers classify better? (seminar 000: "
                "'Szükség van egy teljesen kapcsolt hálóban több, mint egy réteg?')")
    config = Config()
    smoke = dict(datasets=("mnist",), params=(5000,), depths=(1, 2), max_epochs=2, patience=1, train_limit=256,
                 test_limit=128, seeds=2)
    headline = ("test_accuracy",)

    def plan(self, config, seeds):
        """The cheaper budget first (a complete table at 5 seeds early), then data set, seed, depth."""
        for params in config.params:
            for dataset in config.datasets:
                for seed in seeds:
                    for depth in config.depths:
                        yield {"dataset": dataset, "params": params, "depth": depth}, seed

    def run_arm(self, config, arm, seed, data):
        width = width_for(arm["depth"], arm["params"])
        model = _runner.build_mlp(seed, hidden=(width,) * arm["depth"])
        fit = _runner.fit_to_convergence(model, data, seed, config.patience, config.max_epochs,
                                         learning_rate=config.learning_rate, batch_size=config.batch_size)
        history, best = fit
        return dict(width=width, parameters=model.count_params(),
                    test_accuracy=_runner.accuracy(model, data.x_test, data.y_test), **fit.epochs,
                    train_accuracy_at_best=history["accuracy"][best],
                    val_accuracy_at_best=history["val_accuracy"][best], history=history)

    def render(self, config, results, report):
        groups = _report.group_runs(results, ("params", "dataset", "depth"),
                                    order=(config.params, config.datasets, config.depths))
        first = config.depths[0]
        rows, diff_rows = [], []
        for (params, dataset, depth), recs in groups.items():
            rows.append((dataset, f"{params:,}", depth, recs[0]["width"], f"{recs[0]['parameters']:,}",
                         *(_report.ci(recs, key, scale=100) for key in ("test_accuracy", "train_accuracy_at_best")),
                         _report.epochs_cell(recs)))
            if depth != first and (cell := report.compare(
                    recs, groups.get((params, dataset, first), []), "test_accuracy", f"{depth} layers",
                    f"{first} layer", f"{dataset}, ~{params:,} parameters: ")):
                diff_rows.append((dataset, f"{params:,}", f"{depth} - {first}", cell))
        report.table(["dataset", "budget", "hidden layers", "width", "parameters", "test accuracy, %",
                      "train accuracy at the best epoch, %", "best epoch (mean) / most epochs run"], rows,
                     title="Test accuracy: mean ± 95% CI over seeds (Student t, sample std)")
        report.table(["dataset", "budget", "depth difference", "test accuracy difference, points"], diff_rows,
                     title="Paired differences against one hidden layer (same seeds: split, order, init)")
        stopped = sum(r["epochs_run"] < config.max_epochs for r in results["runs"])
        report.text(
            f"Every net: Adam (learning rate {config.learning_rate:g}, batch {config.batch_size}), trained until the "
            f"validation loss had not improved for {config.patience} epochs (at most {config.max_epochs}); the "
            f"weights of the best validation-loss epoch are tested. {stopped} of {len(results['runs'])} runs stopped "
            f"early (their validation loss had not improved for {config.patience} epochs, i.e. they were past their "
            f"minimum); {len(results['runs']) - stopped} reached the {config.max_epochs}-epoch cap. The learning "
            "curves below show it run by run. The kept epoch is each run's validation-loss minimum, which the deeper "
            "nets reach sooner (the best-epoch column): the arms are compared as stopped by the same rule, not each "
            "at its best test accuracy.\n\n"
            "Literature: the universal-approximation theorems (Cybenko 1989, Hornik 1991) say one hidden layer "
            "suffices, not that it is as parameter-efficient; for permutation-invariant MNIST, Simard et al. (2003; "
            "as listed in LeCun's MNIST results table) report 1.6% error (98.4% accuracy) for a 784-800-10 MLP "
            "(~636k parameters) trained with cross-entropy, between our two budgets.")
        _figures(config, groups, report)


def _figures(config, groups, report):
    panels = [(d, p) for d in config.datasets for p in config.params]
    fig, axes = _report.figure(ncols=len(config.params), nrows=len(config.datasets), width=4.6, height=3.4)
    for ax, (dataset, params) in zip(axes, panels):
        _report.loss_curves(ax, [(f"{d} layer(s)", groups.get((params, dataset, d), [])) for d in config.depths])
        ax.set(title=f"{dataset}, ~{params:,} params", xlabel="epoch", ylabel="validation loss")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)
    report.save_figure(fig, "curves", "Validation loss per epoch of every run (dots: the kept, best epoch).")
    fig, axes = _report.figure(ncols=len(panels), width=3.4, height=3.2)
    for ax, (dataset, params) in zip(axes, panels):
        done = [d for d in config.depths if (params, dataset, d) in groups]
        est = [stats.mean_ci([r["test_accuracy"] for r in groups[(params, dataset, d)]]) for d in done]
        ax.errorbar(done, [e.mean * 100 for e in est], [(e.half_width or 0) * 100 for e in est], fmt="o-", capsize=3)
        ax.set(title=f"{dataset}, ~{params:,}", xlabel="hidden layers", ylabel="test accuracy, %")
    report.save_figure(fig, "accuracy", "Test accuracy vs depth at equal parameter count (mean, 95% CI).")


