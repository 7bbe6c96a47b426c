"""16-bit fixed-point training with stochastic vs round-to-nearest rounding (Gupta et al. 2015)."""

import dataclasses
import time

import keras
import numpy as np
from keras_seminar.experiments import _report, _runner, stats
from keras_seminar.experiments._config import Count, Dataset, Natural, Positive, one_of
from keras_seminar.experiments._protocol import Experiment, register

from keras_seminar.errors import UsageError
from keras_seminar.fixed_point_sgd import FixedPointSGD
from keras_seminar.layers import StochasticRounding
from keras_seminar.training import fit_model

__all__ = ["build", "Config", "ROUNDINGS", "StochasticRounding16"]

ROUNDINGS = ("nearest", "stochastic")
# Gupta et al. (2015) is quoted from its abstract only: its Fig. 2 (MNIST 784-1000-1000-10) could
# not be checked (reports/literature_check.md, item 2), so the report's table quotes none of its numbers.


@dataclasses.dataclass
class Config:
    dataset: Dataset = "mnist"
    hidden: tuple[Count, ...] = (1000, 1000)  # Gupta et al.'s 784-1000-1000-10 ReLU MLP
    word_bits: Count = 16         # IL + FL (sign included in IL)
    fractional_bits: tuple[Natural, ...] = (8, 10, 14)  # FL sweep (the paper's); IL = word_bits - FL, each < word_bits
    roundings: tuple[one_of(*ROUNDINGS), ...] = ROUNDINGS
    learning_rate: Positive = 0.01  # plain SGD, no momentum, no weight decay, constant rate
    batch_size: Count = 100
    epochs: Count = 3             # a fixed budget, the same for every arm (2-core CPU: ~35 min)
    train_limit: Count | None = None  # None: all 54k training images (6k are validation)
    test_limit: Count | None = None   # None: all 10k test images
    seeds: Count = 5


def build(config, arm, seed):
    """Flatten - [Dense - round - ReLU] x hidden - Dense - round - softmax; no rounding in float32.

    Every Dense output (the GEMM result) is rounded to `<IL, FL>` the arm's way in training and
    to nearest at test time; the weights are rounded by the optimizer after each step.
    """
    keras.utils.set_random_seed(seed)
    fixed = arm["arm"] == "fixed"
    layers = [keras.Input((28, 28, 1)), keras.layers.Flatten()]
    for i, units in enumerate((*config.hidden, 10)):
        layers.append(keras.layers.Dense(units, name=f"dense{i + 1}"))
        if fixed:
            layers.append(StochasticRounding(config.word_bits - arm["fractional_bits"], arm["fractional_bits"],
                                             seed=seed * 100 + i, rounding=arm["rounding"], name=f"round{i + 1}"))
        layers.append(keras.layers.Activation("relu" if i < len(config.hidden) else "softmax"))
    model = keras.Sequential(layers)
    if fixed:
        opt = FixedPointSGD(config.learning_rate, config.word_bits - arm["fractional_bits"],
                            arm["fractional_bits"], arm["rounding"], seed=seed)
    else:
        opt = keras.optimizers.SGD(config.learning_rate)
    # A custom optimizer: `training.fit_arrays` compiles from a recipe, so these nets are
    # compiled here (the same loss and metric) and fitted by the engine (`training.fit_model`).
    model.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@register
class StochasticRounding16(Experiment):
    name = "stochastic_rounding"
    title = "Stochastic rounding in 16-bit fixed-point training"
    question = ("Does an MNIST MLP trained with 16-bit fixed-point weights and activations match "
                "float32 when rounding is stochastic, and fail or degrade with round-to-nearest "
                "(Gupta et al. 2015)? At which fractional length FL does round-to-nearest break? "
                "(toolbox measured: the package's StochasticRounding and FixedPointSGD)")
    config = Config()
    smoke = dict(hidden=(16,), fractional_bits=(12,), learning_rate=0.1, epochs=1, train_limit=300, test_limit=100,
                 seeds=2)
    headline = ("test_error",)

    def check(self, config):
        for fl in config.fractional_bits:
            if fl >= config.word_bits:
                raise UsageError(f"Expected fractional_bits below word_bits={config.word_bits}. "
                                 f"Received: fractional_bits={config.fractional_bits!r}")

    def arms(self, config):
        """`[{"arm": "float32"}, {"arm": "fixed", "fractional_bits": FL, "rounding": r}, ...]`."""
        return [{"arm": "float32"}] + [{"arm": "fixed", "fractional_bits": fl, "rounding": r}
                                       for fl in config.fractional_bits for r in config.roundings]

    def run_arm(self, config, arm, seed, data):
        model = build(config, arm, seed)
        start = time.perf_counter()
        history = fit_model(model, data.x_train, data.y_train, batch_size=config.batch_size, seed=seed,
                            epochs=config.epochs, validation_data=data.validation)
        h = {k: [float(v) for v in vs] for k, vs in history.history.items()}
        return dict(test_error=1.0 - _runner.accuracy(model, data.x_test, data.y_test),
                    val_error=1.0 - h["val_accuracy"][-1], train_error=1.0 - h["accuracy"][-1],
                    seconds=round(time.perf_counter() - start, 1), history=h)

    def render(self, config, results, report):
        _render(self.arms(config), config, results, report)


def _label(arm, word_bits):
    if arm["arm"] == "float32":
        return "float32"
    fl = arm["fractional_bits"]
    return f"<{word_bits - fl},{fl}> {arm['rounding']}"


def _render(arm_list, config, results, report):
    by_arm = {}
    for r in sorted(results["runs"], key=lambda r: r["seed"]):
        by_arm.setdefault(_label(r["arm"], config.word_bits), []).append(r)
    rows, diffs = [], []
    for arm in arm_list:
        label = _label(arm, config.word_bits)
        recs = by_arm.get(label, [])
        if not recs:
            continue
        rows.append((label, stats.percent([r["test_error"] for r in recs]), stats.percent([r["train_error"] for r in recs]),
                     f"{np.mean([r['seconds'] for r in recs]):.0f}"))
        a, b = _report.paired(recs, by_arm.get("float32", []), "test_error")
        if arm["arm"] == "fixed" and a:
            diffs.append((f"{label} - float32", stats.paired_difference(a, b).format(2, 100)))
            report.finding("Test error: " + stats.claim(label, a, "float32", b, digits=2, scale=100, unit=" points"))
    report.table(["arm <IL,FL> rounding", "test error, %", "train error (last epoch), %",
                  "seconds per run"], rows,
                 title="Test error after the fixed budget: mean ± 95% CI over seeds (Student t)")
    report.table(["arms", "test error difference, points"], diffs,
                 title="Paired differences vs float32 (same seed: same split, data order, initial weights)")
    for fl in config.fractional_bits:
        x, y = _report.paired(*(by_arm.get(_label({"arm": "fixed", "fractional_bits": fl, "rounding": r},
                                                  config.word_bits), []) for r in ("nearest", "stochastic")),
                              "test_error")
        if x:
            report.finding(f"FL={fl}: " + stats.claim("round-to-nearest", x, "stochastic rounding", y, digits=2,
                                                       scale=100, unit=" points"))
    hidden = "-".join(str(h) for h in config.hidden)
    report.text(
        f"Every net: 784-{hidden}-10 ReLU, plain SGD (no momentum, no weight decay) at a constant "
        f"{config.learning_rate:g}, batch {config.batch_size}, {config.epochs} epochs for every arm "
        "(a fixed budget; the last epoch's weights are tested). Fixed-point arms: every weight and bias is "
        f"stored in the {config.word_bits}-bit format <IL, FL> (IL = {config.word_bits} - FL, sign "
        "included): after each step the optimizer (`FixedPointSGD`) writes Round(w - lr * g) with no "
        "float32 master copy, so with round-to-nearest an update below half a grid step 2^-FL is lost; every "
        "Dense output (pre-activation, the GEMM result) is rounded by `StochasticRounding` the arm's way in "
        "training and to nearest at test time, with the straight-through gradient inside the range and 0 "
        "where the value saturates. Gradients, the loss and the input pixels stay float32. Where we differ from Gupta et al. (2015, ICML, 'Deep Learning with "
        "Limited Numerical Precision'): their abstract reports 16-bit fixed-point training with stochastic "
        "rounding at little to no loss of accuracy; their MNIST figure (784-1000-1000-10) and its training "
        "budget could not be checked here (only the abstract was reachable), so no number of theirs is "
        "quoted. Here the budget is a few epochs on a 2-core CPU, so the comparison is at a matched budget, "
        "not at convergence."
        + _plateau(config, arm_list, by_arm)
        + (f"\n\n**Note (added to the results JSON by hand).** {results['note']}" if results.get("note") else ""))
    _curves(config, arm_list, by_arm, report)


def _plateau(config, arm_list, by_arm, last=5):
    """How far from its plateau each arm ended: its validation loss's fall over the last epochs."""
    parts = []
    for arm in arm_list:
        label = _label(arm, config.word_bits)
        falls = [_report.last_fall(r["history"]["val_loss"], last) for r in by_arm.get(label, [])]
        if falls and None not in falls:
            parts.append(f"{label} {100 * min(falls):.1f}-{100 * max(falls):.1f}%")
    if not parts:
        return ""
    tol = 100 * _report.PLATEAU_TOLERANCE
    return (f"\n\nConvergence: over the last {last} epochs the validation loss still fell by "
            + ", ".join(parts) + f" (over seeds); a run whose loss fell by {tol:g}% or more is not on its "
            "plateau, and its error is an upper bound on what the arm reaches.")


def _curves(config, arm_list, by_arm, report):
    fig, axes = _report.figure(ncols=2, width=4.6, height=3.4)
    for i, arm in enumerate(arm_list):
        label = _label(arm, config.word_bits)
        for j, r in enumerate(by_arm.get(label, [])):
            h = r["history"]
            epochs = np.arange(1, len(h["val_accuracy"]) + 1)
            style = "--" if arm.get("rounding") == "nearest" else "-"
            for ax, key in zip(axes, ("accuracy", "val_accuracy")):
                ax.plot(epochs, 100 * (1 - np.asarray(h[key])), style, color=f"C{i}", alpha=0.7, lw=1,
                        label=label if j == 0 else None)
    for ax, what in zip(axes, ("train", "validation")):
        ax.set(title=f"{what} error (dashed: round-to-nearest)", xlabel="epoch", ylabel="error, %", yscale="log")
    axes[0].legend(fontsize=7)
    report.save_figure(fig, "curves", "Error per epoch of every run and arm (one line per seed).")
