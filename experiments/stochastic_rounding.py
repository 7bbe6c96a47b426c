"""16-bit fixed-point training with stochastic vs round-to-nearest rounding (Gupta et al. 2015)."""

import dataclasses
import time

import keras
import numpy as np
from keras_seminar.experiments import _report, _runner, stats
from keras_seminar.experiments._config import Count, Dataset, Natural, Positive, one_of
from keras_seminar.experiments._protocol import Experiment, register

from keras_seminar.errors import UsageError
from keras_seminar.fixed_point_sgd import fixed_point_mlp

__all__ = ["build", "Config", "ROUNDINGS", "StochasticRounding16"]

ROUNDINGS = ("nearest", "stochastic")
GRID = {"fractional_bits": (8, 10, 14), "learning_rate": (0.01, 0.1)}  # issue 34's; the report names what is left


@dataclasses.dataclass
class Config:
    dataset: Dataset = "mnist"
    hidden: tuple[Count, ...] = (1000, 1000)  # Gupta et al.'s 784-1000-1000-10 ReLU MLP
    word_bits: Count = 16         # IL + FL (sign included in IL)
    fractional_bits: tuple[Natural, ...] = (10, 14)  # issue 34's first stage (FL 8: --set); IL = word_bits - FL
    roundings: tuple[one_of(*ROUNDINGS), ...] = ROUNDINGS
    learning_rate: Positive = 0.01  # plain SGD, no momentum, no weight decay, constant rate
    batch_size: Count = 100
    max_epochs: Count = 100       # cap; a run stops on its plateau first (`_runner.Plateau`), its last weights kept
    margin: Positive = 0.003      # TOST margin on test error: "matches float32" only within ±0.3 points
    train_limit: Count | None = None  # None: all 54k training images (6k are validation)
    test_limit: Count | None = None   # None: all 10k test images
    seeds: Count = 5


def build(config, arm, seed):
    """The arm's `fixed_point_mlp` (float32: no rounding, plain SGD), its weights drawn from `seed`.
    Compiled there (a custom optimizer; `training.fit_arrays` compiles from a recipe)."""
    keras.utils.set_random_seed(seed)
    fl = arm.get("fractional_bits")
    return fixed_point_mlp(config.hidden, config.word_bits - (fl or 0), fl, arm.get("rounding", "stochastic"),
                           config.learning_rate, seed=seed)  # IL = word_bits - FL; unused by float32 (FL None)


@register
class StochasticRounding16(Experiment):
    name = "stochastic_rounding"
    title = "Stochastic rounding in 16-bit fixed-point training"
    question = ("Does an MNIST MLP trained with 16-bit fixed-point weights and activations match float32 when "
                "rounding is stochastic, and fail or degrade with round-to-nearest (Gupta et al. 2015)? At which "
                "fractional length FL does round-to-nearest break? (toolbox measured: the package's "
                "StochasticRounding and FixedPointSGD)")
    config = Config()
    smoke = dict(hidden=(16,), fractional_bits=(12,), learning_rate=0.1, max_epochs=2, train_limit=300,
                 test_limit=100, seeds=2)
    headline = ("test_error",)

    def check(self, config):
        if any(fl >= config.word_bits for fl in config.fractional_bits):
            raise UsageError(f"Expected fractional_bits below word_bits={config.word_bits}. "
                             f"Received: fractional_bits={config.fractional_bits!r}")

    def arms(self, config):
        """`[{"arm": "float32"}, {"arm": "fixed", "fractional_bits": FL, "rounding": r}, ...]`."""
        return [{"arm": "float32"}] + [{"arm": "fixed", "fractional_bits": fl, "rounding": r}
                                       for fl in config.fractional_bits for r in config.roundings]

    def run_arm(self, config, arm, seed, data):
        model, start = build(config, arm, seed), time.perf_counter()
        h = _runner.fit_to_plateau(model, data, seed, config.max_epochs, config.batch_size)
        return dict(test_error=1.0 - _runner.accuracy(model, data.x_test, data.y_test),
                    train_error=1.0 - h["accuracy"][-1], seconds=round(time.perf_counter() - start, 1), history=h)

    def render(self, config, results, report):
        if "max_epochs" not in results["config"]:  # drawn with this text, the old runs' report would lie
            raise UsageError("Expected runs trained to their plateau (config max_epochs). Received: a fixed budget of "
                             f"{results['config'].get('epochs')} epochs (before issue 34); rerun with --restart.")
        arms = self.arms(config)
        by_arm = {_label(arm, config): _report.group_runs(results, (), **arm).get((), []) for arm in arms}
        rows, margin = [], config.margin
        for arm, (label, recs) in zip(arms, by_arm.items()):
            if not recs:
                continue
            vs_float = arm["arm"] == "fixed" and report.equivalent(recs, by_arm["float32"], "test_error", label,
                                                                   "float32", margin, what="Test error: ")
            epochs = [len(r["history"]["val_loss"]) for r in recs]
            rows.append((label, *(stats.percent([r[k] for r in recs]) for k in ("test_error", "train_error")),
                         *(vs_float or ("", "")), f"{min(epochs)}-{max(epochs)}",
                         f"{np.mean([r['seconds'] for r in recs]):.0f}"))
            if arm.get("rounding") == "stochastic":
                report.compare(by_arm.get(_label({**arm, "rounding": "nearest"}, config), []), recs, "test_error",
                               "round-to-nearest", "stochastic rounding", what=f"FL={arm['fractional_bits']}: ")
        report.table(["arm <IL,FL> rounding", "test error, %", "train error (last epoch), %",
                      "test error - float32, points (paired)", f"equivalent within ±{100 * margin:g} (TOST)",
                      "epochs run", "seconds per run"], rows, title="Test error at the plateau: mean ± 95% CI over "
                     "seeds (Student t); the difference vs float32 per seed (same split, data order, initial weights)")
        note = f"\n\n**Note (added to the results JSON by hand).** {results['note']}" if results.get("note") else ""
        report.text(_setup(config) + _plateau(config, by_arm) + _left(config) + note)
        _curves(by_arm, report)


def _label(arm, config):
    fl = arm.get("fractional_bits")
    return "float32" if arm["arm"] == "float32" else f"<{config.word_bits - fl},{fl}> {arm['rounding']}"


def _setup(config):
    return (
        f"Every net: 784-{'-'.join(map(str, config.hidden))}-10 ReLU, plain SGD (no momentum, no weight decay) at "
        f"a constant {config.learning_rate:g}, batch {config.batch_size}, trained until its validation loss fell by "
        f"less than {100 * _report.PLATEAU_TOLERANCE:g}% over the last 5 epochs (at most {config.max_epochs} "
        "epochs); the last epoch's weights are tested. Fixed-point arms: every weight and bias is stored in the "
        f"{config.word_bits}-bit format <IL, FL> (IL = {config.word_bits} - FL, sign included): after each step the "
        "optimizer (`FixedPointSGD`) writes Round(w - lr * g) with no float32 master copy, so with round-to-nearest "
        "an update below half a grid step 2^-FL is lost; every Dense output (pre-activation, the GEMM result) is "
        "rounded by `StochasticRounding` the arm's way in training and to nearest at test time, with the "
        "straight-through gradient inside the range and 0 where the value saturates (at FL 14 the range is "
        "[-2, 2), so the logits saturate and the cross-entropy cannot fall below ln(1 + 9 e^-4) = 0.153: those "
        "arms' loss flattens higher). Gradients, the loss and the input pixels stay float32. \"Matches float32\" "
        "is said only where TOST (two one-sided paired t-tests at 5%) puts the 90% CI of the test-error "
        f"difference inside ±{100 * config.margin:g} points (why the default ±0.3: it is the margin issue 34 sets for matched "
        "accuracy in the sparsity comparison, about 2.7 times float32's seed-to-seed standard deviation of 0.11 "
        "points after 10 epochs at rate 0.1, and far below the effects the question is about: round-to-nearest "
        "cost 2.9 to 80 points after 3 epochs at rate 0.01; Gupta et al.'s \"little to no degradation\" gives no "
        "number to take). Where we differ from Gupta et al. (2015, ICML, 'Deep Learning with Limited Numerical Precision'): "
        "their abstract reports 16-bit fixed-point training with stochastic rounding at little to no loss of "
        "accuracy; their MNIST figure (784-1000-1000-10) and its training budget could not be checked here (only "
        "the abstract was reachable), so no number of theirs is quoted.")


def _plateau(config, by_arm):
    """The runs that ended off their plateau (at the epoch cap), with how much their loss still fell."""
    off, n = _report.off_plateau(by_arm.items())
    return "\n\nConvergence: " + (
        f"runs off their plateau at the {config.max_epochs}-epoch cap (how much their validation loss still fell "
        f"over the last 5 epochs): {', '.join(off)}; their test error is an upper bound on what the arm reaches."
        if off else f"all {n} runs stopped on their plateau, before the {config.max_epochs}-epoch cap.")


def _left(config):
    """What this run left of issue 34's `GRID`, each part with the command that runs it."""
    parts = []
    for rate in GRID["learning_rate"]:
        fls = ",".join(str(f) for f in GRID["fractional_bits"]
                       if rate != config.learning_rate or f not in config.fractional_bits)
        parts += [f"FL {fls} at rate {rate:g}: `KERAS_BACKEND=tensorflow keras-seminar experiment stochastic_rounding "
                  f"--set fractional_bits={fls} --set learning_rate={rate:g} --out reports/stochastic_rounding_lr{rate:g}`"
                  ] * bool(fls)
    return f"\n\nNot run here (issue 34's grid: FL 8, 10, 14 at rates 0.01 and 0.1): {'; '.join(parts)}." * bool(parts)


def _curves(by_arm, report):
    fig, axes = _report.figure(ncols=2, width=4.6, height=3.4)
    for ax, what, y in zip(axes, ("validation loss", "validation error, %"), (
            lambda r: r["history"]["val_loss"], lambda r: 100 * (1 - np.asarray(r["history"]["val_accuracy"])))):
        _report.curves(ax, by_arm.items(), y, fmt=lambda label: "--" if "nearest" in label else "-", alpha=0.7, lw=1)
        ax.set(title=f"{what} (dashed: round-to-nearest)", xlabel="epoch", ylabel=what, yscale="log")
    _report.legends(axes[:1])
    report.save_figure(fig, "curves", "Validation loss and error per epoch of every run and arm (one line per seed).")
