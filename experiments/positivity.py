"""The positivity hypothesis: can non-negative nets classify, and are they more robust?"""

import dataclasses
import functools
from typing import Annotated

import keras
import numpy as np
from keras_seminar.experiments import _report, _runner, stats
from keras_seminar.experiments._config import Count, Dataset, Natural, Positive, Range, one_of
from keras_seminar.experiments._protocol import Experiment, register

from keras_seminar import adversarial
from keras_seminar.models import build_model

__all__ = ["ARMS", "build", "Config", "Eps", "Positivity"]

ARMS = ("free", "nonneg_all", "nonneg_output")  # constraints: none / every kernel / hidden->output
Eps = Annotated[float, Range(0, 1, low_open=True)]  # an L-inf attack size on pixels in [0, 1]
_INITS = {"glorot_uniform": lambda: "glorot_uniform",
          "positive_uniform": lambda: keras.initializers.RandomUniform(0.0, 0.02)}
_CONSTRAINTS = {"free": {}, "nonneg_all": {"kernel_constraint": "nonneg"},
                "nonneg_output": {"output_constraint": "nonneg"}}


@dataclasses.dataclass
class Config:
    datasets: tuple[Dataset, ...] = ("mnist", "fashion_mnist")
    archs: tuple[one_of("mlp", "cnn"), ...] = ("mlp",)  # mlp: 784-256-10 ReLU; "cnn" (conv5x5 16/32 + dense 128) needs a GPU
    arms: tuple[one_of(*ARMS), ...] = ARMS
    # A fair try for every arm: on seed 0, each learning rate (Adam) x initializer is trained with
    # the same early stopping (at most sweep_epochs); the best validation accuracy picks the pair
    # the 5 seeds then use.
    learning_rates: tuple[Positive, ...] = (1e-3, 3e-3)
    # "positive_uniform": U(0, 0.02), pre-activations ~1 for 784 non-negative pixels (sum ~100);
    # "glorot_uniform" under a non-negative constraint starts half-zero (projected at step 1).
    inits: tuple[one_of(*_INITS), ...] = ("glorot_uniform", "positive_uniform")
    sweep_epochs: Count = 12             # cap of a sweep run (same early stopping)
    max_epochs: Count = 60               # early stopping on the validation loss ends runs first
    patience: Natural = 5
    eps: tuple[Eps, ...] = (0.05, 0.1, 0.2)  # L-inf FGSM sizes, pixels in [0, 1]; 0.1 is the headline
    pgd_eps: tuple[Eps, ...] = (0.1,)    # PGD sizes (each costs steps x restarts gradient passes)
    pgd_steps: Count = 20                # step 2.5 eps / steps, random start (Madry et al. 2018)
    pgd_restarts: Count = 2              # an image counts as robust only if every restart fails
    attack_limit: Count | None = 5000    # a seeded random 5,000-image test subset per seed; None: all 10k
    train_limit: Count | None = None     # None: all 54k training images (6k are validation)
    test_limit: Count | None = None
    seeds: Count = 5


def build(arch, arm, init, seed):
    options = {**_CONSTRAINTS[arm], "kernel_initializer": _INITS[init]()}
    if arch == "mlp":
        return _runner.build_mlp(seed, hidden=(256,), **options)
    keras.utils.set_random_seed(seed)
    return build_model("cnn", filters=(16, 32), dense_units=128, dropout=0.25, **options)


def _attacks(config, model, x, y, seed):
    out = {"fgsm": adversarial.robustness_curve(model, x, y, list(config.eps), "fgsm")["accuracy"], "pgd": []}
    for eps in config.pgd_eps:
        robust = np.ones(len(y), bool)
        for r in range(config.pgd_restarts):
            x_adv = adversarial.pgd(model, x, y, eps, steps=config.pgd_steps, seed=1000 * seed + r)
            robust &= adversarial.predict_labels(model, x_adv) == y
        out["pgd"].append(float(robust.mean()))
    return out


@register
class Positivity(Experiment):
    name = "positivity"
    title = "Positivity: free vs non-negative weights"
    question = ("Can networks whose weights are all non-negative (or whose hidden->output weights "
                "are) still learn MNIST / Fashion-MNIST, and are they harder to fool with FGSM/PGD? "
                "(seminar 000, 'Kutatási pontok': test the positivity hypothesis)")
    config = Config()
    smoke = dict(datasets=("mnist",), arms=("free", "nonneg_output"), learning_rates=(1e-3,),
                 inits=("positive_uniform",), sweep_epochs=1, max_epochs=1, patience=1, eps=(0.1,), pgd_eps=(0.1,),
                 pgd_steps=2, pgd_restarts=1, attack_limit=64, train_limit=256, test_limit=128, seeds=2)
    headline = ("test_accuracy", "val_accuracy")

    def plan(self, config, seeds):
        """Per data set and arch: the learning-rate x init sweep of every arm on seed 0, then
        every seed's arms with the pair their sweep chose."""
        for dataset in config.datasets:
            for arch in config.archs:
                for arm in config.arms:
                    for lr, init in _candidates(config, arm):
                        yield {"phase": "sweep", "dataset": dataset, "arch": arch, "arm": arm, "lr": lr,
                               "init": init}, 0
                for seed in seeds:
                    for arm in config.arms:
                        yield {"phase": "main", "dataset": dataset, "arch": arch, "arm": arm}, seed

    def _chosen(self, config, arm):
        """The (learning rate, init) with the best validation accuracy on seed 0 (the first best)."""
        swept = [{**arm, "phase": "sweep", "lr": lr, "init": init} for lr, init in _candidates(config, arm["arm"])]
        best = max(swept, key=lambda a: (self.runs.get(a, 0)["val_accuracy"], -swept.index(a)))
        return best["lr"], best["init"]

    def run_arm(self, config, arm, seed, data):
        lr, init = (arm["lr"], arm["init"]) if arm["phase"] == "sweep" else self._chosen(config, arm)
        model = build(arm["arch"], arm["arm"], init, seed)
        epochs = config.sweep_epochs if arm["phase"] == "sweep" else config.max_epochs
        history, best = _runner.fit_to_convergence(model, data, seed, config.patience, epochs, model_name=arm["arch"],
                                                   learning_rate=lr, schedule="constant")
        if arm["phase"] == "sweep":
            return dict(val_accuracy=history["val_accuracy"][best], best_epoch=best + 1,
                        epochs_run=len(history["val_loss"]))
        x_att, y_att = _runner.test_subset(data, config.attack_limit, seed)
        attacked = _attacks(config, model, x_att, y_att, seed)
        return dict(lr=lr, init=init, best_epoch=best + 1, epochs_run=len(history["val_loss"]),
                    test_accuracy=_runner.accuracy(model, data.x_test, data.y_test),
                    attacked_clean=float(np.mean(adversarial.predict_labels(model, x_att) == y_att)),
                    attacked_images=len(y_att), fgsm=attacked["fgsm"], pgd=attacked["pgd"], history=history)

    def render(self, config, results, report):
        _render(config, results, report)


def _candidates(config, arm):
    """The (learning rate, init) pairs an arm's sweep tries (a free net keeps Glorot)."""
    return [(lr, init) for lr in config.learning_rates
            for init in (config.inits if arm != "free" else ("glorot_uniform",))]


def _values(recs, key, i=None):
    """Per-seed values of `key` (its i-th entry for the per-eps lists); "pgd_share" is PGD accuracy
    over clean accuracy on the attacked images: the share of correctly classified images that
    PGD does not flip (a misclassified image stays misclassified under a loss-ascent attack)."""
    if key == "pgd_share":
        return [r["pgd"][i] / r["attacked_clean"] if r["attacked_clean"] else 0.0 for r in recs]
    return [r[key] if i is None else r[key][i] for r in recs]


def _render(config, results, report):
    main = _report.group_runs(results, ("dataset", "arch", "arm"), phase="main")
    eps, peps = config.eps, config.pgd_eps
    h, ph = (e.index(0.1) if 0.1 in e else 0 for e in (eps, peps))
    swept = [r for r in results["runs"] if r["arm"]["phase"] == "sweep"]
    top = {}
    for r in swept:  # the first best, as `_choose` picks it
        k = (r["arm"]["dataset"], r["arm"]["arch"], r["arm"]["arm"])
        top[k] = r if k not in top or r["val_accuracy"] > top[k]["val_accuracy"] else top[k]
    sweep = [(r["arm"]["dataset"], r["arm"]["arch"], r["arm"]["arm"], f"{r['arm']['lr']:g}", r["arm"]["init"],
              f"{100 * r['val_accuracy']:.2f}", r["best_epoch"],
              "**used**" if top[(r["arm"]["dataset"], r["arm"]["arch"], r["arm"]["arm"])] is r else "") for r in swept]
    report.table(["dataset", "arch", "arm", "Adam lr", "init", "val accuracy, % (seed 0)", "best epoch", ""], sweep,
                 title="Learning-rate x initializer sweep per arm (seed 0, validation set; the best is used)")
    rows, diffs = [], []
    for (dataset, arch, arm), recs in main.items():
        get = functools.partial(_values, recs)
        rows.append((dataset, arch, arm, f"{recs[0]['lr']:g}, {recs[0]['init']}", stats.percent(get("test_accuracy")),
                     *(stats.percent(get("fgsm", i)) for i in range(len(eps))), *(stats.percent(get("pgd", i)) for i in range(len(peps))),
                     f"{np.mean(get('best_epoch')):.1f} / {max(get('epochs_run'))}"))
        free = main.get((dataset, arch, "free"))
        if arm == "free" or not free:
            continue
        for label, key, i in (("clean", "test_accuracy", None), (f"FGSM eps={eps[h]:g}", "fgsm", h),
                              (f"PGD eps={peps[ph]:g}", "pgd", ph),
                              (f"PGD eps={peps[ph]:g} / clean", "pgd_share", ph)):
            a, b = _report.paired(recs, free, lambda r, key=key, i=i: _values([r], key, i)[0])
            if not a:
                continue
            diffs.append((dataset, arch, f"{arm} - free", label, stats.paired_difference(a, b).format(2, 100)))
            report.finding(f"{dataset}/{arch}, {label} accuracy: " + stats.claim(
                arm, a, "free", b, digits=2, scale=100, unit=" points"))
    n_att = next(iter(main.values()))[0]["attacked_images"] if main else 0
    report.table(["dataset", "arch", "arm", "lr, init", "clean test acc, %", *(f"FGSM {e:g}, %" for e in eps),
                  *(f"PGD-{config.pgd_steps} {e:g}, %" for e in peps), "best epoch / most run"], rows,
                 title=f"Accuracy: mean ± 95% CI over seeds; attacks on {n_att} test images")
    report.table(["dataset", "arch", "arms", "accuracy", "paired difference, points"], diffs,
                 title="Paired differences against the free net (same seeds)")
    report.text(
        f"Training: Adam at the swept rate (sweep runs capped at {config.sweep_epochs} epochs), "
        f"constant, batch 128, early stopping on the validation "
        f"loss (patience {config.patience}, at most {config.max_epochs} epochs; the best "
        f"epoch's weights are kept). Attacks: L-inf, white-box, FGSM and PGD with "
        f"{config.pgd_steps} steps of 2.5 eps/steps from a random start, {config.pgd_restarts} "
        "restart(s) (an image counts only if every restart fails), on the softmax's cross-entropy.\n\n"
        "Not at matched clean accuracy: where the arms' clean accuracies differ, part of a "
        "robustness difference can be the accuracy difference. The 'PGD / clean' row divides it "
        "out (the share of correctly classified images that PGD does not flip). The robustness "
        "report (robustness.md, MLP 784-256-10, PGD-40 x 5 restarts and a transfer attack) "
        "compares the same non-negative arms with L1 / L2 / L1/2 nets at matched clean accuracy.\n\n"
        "Literature: Fleshman et al. (2018, arXiv:1806.06108, 'Non-Negative Networks Against "
        "Adversarial Attacks') report non-negative weights as an effective defence for binary "
        "classification with asymmetric cost (malware, spam), and, for images, a reduced ability to "
        "force targeted misclassification (their abstract); they do not claim robustness to "
        "untargeted L-inf attacks. No published figure for non-negative MLPs on (Fashion-)MNIST "
        "under FGSM/PGD was found; the table says what we measured.\n\n"
        "CNN arms: not run here (a 2-core CPU shared by six jobs). On a GPU: "
        "`KERAS_BACKEND=jax keras-seminar experiment positivity --set archs=cnn "
        f"--out reports/positivity_cnn` (per data set {len(config.learning_rates) * (1 + 2 * len(config.inits))} "
        "sweep runs and 15 runs of the CNN 16/32/128 to convergence, plus the attacks).")
    _figures(config, main, report)


def _figures(config, main, report):
    panels = [(d, a) for d in config.datasets for a in config.archs]
    fig, axes = _report.figure(ncols=2, nrows=len(panels), width=4.2, height=3.2)
    for row, (dataset, arch) in enumerate(panels):
        for col, attack in enumerate(("fgsm", "pgd")):
            ax = axes[2 * row + col]
            eps = [0.0] + list(config.eps if attack == "fgsm" else config.pgd_eps)
            for i, arm in enumerate(config.arms):
                recs = main.get((dataset, arch, arm))
                if not recs:
                    continue
                est = [stats.mean_ci([r["attacked_clean"] if j == 0 else r[attack][j - 1] for r in recs])
                       for j in range(len(eps))]
                ax.errorbar(eps, [e.mean for e in est], [e.half_width or 0 for e in est], fmt="o-",
                            capsize=3, color=f"C{i}", label=arm)
            ax.set(title=f"{dataset} / {arch}: {attack.upper()}", xlabel="eps (L-inf)", ylabel="accuracy", ylim=(0, 1))
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7)
    report.save_figure(fig, "attacks", "Accuracy under attack vs eps (mean and 95% CI over seeds).")
    fig, axes = _report.figure(ncols=len(panels), width=4.2, height=3.2)
    for ax, (dataset, arch) in zip(axes, panels):
        for i, arm in enumerate(config.arms):
            for j, r in enumerate(main.get((dataset, arch, arm), [])):
                v = r["history"]["val_loss"]
                ax.plot(np.arange(1, len(v) + 1), v, color=f"C{i}", alpha=0.6, lw=1, label=arm if j == 0 else None)
                ax.plot(r["best_epoch"], v[r["best_epoch"] - 1], "o", color=f"C{i}", ms=3)
        ax.set(title=f"{dataset} / {arch}", xlabel="epoch", ylabel="validation loss")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    report.save_figure(fig, "curves", "Validation loss per epoch of every run (dots: the kept, best epoch).")
