"""The positivity hypothesis: can non-negative nets classify, and are they more robust?"""

import dataclasses
from typing import Annotated

import keras
from keras_seminar.experiments import _attacks, _report, _runner, stats
from keras_seminar.experiments._attacks import Eps
from keras_seminar.experiments._config import Count, Dataset, Includes, Natural, Positive, one_of
from keras_seminar.experiments._protocol import Experiment, register

__all__ = ["ARMS", "build", "Config", "Eps", "Positivity"]

ARMS = ("free", "nonneg_all", "nonneg_output")  # constraints: none / every kernel / hidden->output
_INITS = {"glorot_uniform": lambda: "glorot_uniform",
          "positive_uniform": lambda: keras.initializers.RandomUniform(0.0, 0.02)}
_CONSTRAINTS = {"free": {}, "nonneg_all": {"kernel_constraint": "nonneg"},
                "nonneg_output": {"output_constraint": "nonneg"}}
# The CNN arms' own report. Attacked at eps 0.1 on 1,000 images only: PGD-40 costs ~17x more CPU
# per image on this CNN than on the MLP (13.5 vs 0.8 ms, TensorFlow, 2-core CPU, 2026-12-07), so the
# MLP's 4 eps x 5,000 images would add ~15 CPU-hours to its ~5.
CNN_COMMAND = ("KERAS_BACKEND=tensorflow keras-seminar experiment positivity --set archs=cnn --set eps=0.1 "
               "--set attack_limit=1000 --out reports/positivity_cnn")


@dataclasses.dataclass
class Config:
    datasets: tuple[Dataset, ...] = ("mnist", "fashion_mnist")
    archs: tuple[one_of("mlp", "cnn"), ...] = ("mlp",)  # mlp: 784-256-10 ReLU; "cnn": conv5x5 16/32 + dense 128
    arms: Annotated[tuple[one_of(*ARMS), ...], Includes("free", "every arm's control")] = ARMS
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
    # The robustness experiment's attacks (`_attacks`): FGSM, white-box PGD and the transfer attack.
    eps: tuple[Eps, ...] = (0.05, 0.1, 0.2, 0.3)  # L-inf sizes, pixels in [0, 1]; 0.1 is the headline
    pgd_steps: Count = 40                # step 2.5 eps / steps, random start (Madry et al. 2018)
    pgd_restarts: Count = 5              # an image counts as robust only if every restart fails
    attack_limit: Count | None = 5000    # a seeded random 5,000-image test subset per seed; None: all 10k
    substitute_seed_offset: Count = 100  # transfer: PGD crafted on a free net (same arch, as the free arm) of seed + this
    train_limit: Count | None = None     # None: all 54k training images (6k are validation)
    test_limit: Count | None = None
    seeds: Count = 5


def build(arch, arm, init, seed):
    size = dict(hidden=(256,)) if arch == "mlp" else dict(filters=(16, 32), dense_units=128, dropout=0.25)
    return _runner.build(seed, arch, **size, **_CONSTRAINTS[arm], kernel_initializer=_INITS[init]())


@register
class Positivity(Experiment):
    name = "positivity"
    title = "Positivity: free vs non-negative weights"
    question = ("Can networks whose weights are all non-negative (or whose hidden->output weights "
                "are) still learn MNIST / Fashion-MNIST, and are they harder to fool with FGSM/PGD? "
                "(seminar 000, 'Kutatási pontok': test the positivity hypothesis)")
    config = Config()
    smoke = dict(datasets=("mnist",), arms=("free", "nonneg_output"), learning_rates=(1e-3,),
                 inits=("positive_uniform",), sweep_epochs=1, max_epochs=1, patience=1, eps=(0.1, 0.2), pgd_steps=2,
                 pgd_restarts=1, attack_limit=64, train_limit=256, test_limit=128, seeds=2)
    headline = ("test_accuracy", "val_accuracy")

    def plan(self, config, seeds):
        """Per data set and arch: the learning-rate x init sweep of every arm on seed 0, then
        every seed's arms with the pair their sweep chose."""
        return self.sweep_plan([{"dataset": d, "arch": a} for d in config.datasets for a in config.archs],
                               [{"arm": arm} for arm in config.arms], lambda arm: _candidates(config, arm), seeds)

    def _train(self, config, arm, seed, data, epochs=None):
        """`(model, setting, Converged fit)`: `arm` trained with early stopping at its setting (lr,
        init): a sweep run's own, a main run the one its sweep chose."""
        setting = arm if arm["phase"] == "sweep" else self.chosen(arm, _candidates(config, arm), "val_accuracy")
        model = build(arm["arch"], arm["arm"], setting["init"], seed)
        return model, setting, _runner.fit_to_convergence(model, data, seed, config.patience, epochs or config.max_epochs,
                                                          model_name=arm["arch"], learning_rate=setting["lr"],
                                                          schedule="constant")

    def run_arm(self, config, arm, seed, data):
        if arm["phase"] == "sweep":
            fit = self._train(config, arm, seed, data, config.sweep_epochs)[2]
            return dict(val_accuracy=fit.history["val_accuracy"][fit.best], **fit.epochs)
        attacked = _attacks.attack_set(self, (arm["dataset"], arm["arch"], seed), config, data, seed,
                                       lambda s: self._train(config, {**arm, "arm": "free"}, s, data)[0])
        model, setting, fit = self._train(config, arm, seed, data)
        return dict(**setting, **fit.epochs, test_accuracy=_runner.accuracy(model, data.x_test, data.y_test),
                    history=fit.history, **_attacks.measure(config, model, attacked, seed))

    def render(self, config, results, report):
        eps, keys, h = config.eps, ("dataset", "arch", "arm"), _attacks.headline(config)
        main = _report.group_runs(results, keys, phase="main")
        sweep = _report.sweep_rows(results, keys, main, ("lr", "init"), lambda r: (
            f"{r['arm']['lr']:g}", r["arm"]["init"], f"{100 * r['val_accuracy']:.2f}", r["best_epoch"]))
        if sweep:  # none where every arm was given one setting
            report.table(["dataset", "arch", "arm", "Adam lr", "init", "val accuracy, % (seed 0)", "best epoch", ""],
                         sweep, title="Learning-rate x initializer sweep per arm (seed 0, validation set; the best is used)")
        floor = f"{100 * _attacks.CHANCE_FLOOR:.0f}"
        report.table([*keys, "lr, init", "clean test acc, %", f"stayed at chance (< {floor}% clean)", "best epoch / most run"],
                     [(*key, f"{recs[0]['lr']:g}, {recs[0]['init']}", stats.percent([r["test_accuracy"] for r in recs]),
                       f"{sum(r['test_accuracy'] < _attacks.CHANCE_FLOOR for r in recs)} of {len(recs)}",
                       _report.epochs_cell(recs)) for key, recs in main.items()],
                     title="The arms as trained: mean ± 95% CI over seeds")
        attacked = _attacks.trained(report, main, "/".join)
        _attacks.tables(report, config, attacked, keys, substitute="net of the same arch, trained as the free arm")
        measures = [(label, lambda r, key=key, i=i: _attacks.value(r, key, i)) for label, key, i in (
            (f"FGSM eps={eps[h]:g}", "fgsm", h), (f"PGD eps={eps[h]:g}", "pgd", h),
            (f"PGD eps={eps[h]:g} / clean", "pgd_share", h), (f"transfer eps={eps[h]:g}", "transfer", h))]
        what = lambda key, label: f"{key[0]}/{key[1]}, {label} accuracy: "  # noqa: E731
        diffs = (report.against(main, "free", [("clean", "test_accuracy")], what)
                 + report.against(attacked, "free", measures, what))
        order = {(*key[:-1], f"{key[-1]} - free"): i for i, key in enumerate(main)}
        report.table(["dataset", "arch", "arms", "accuracy", "paired difference, points"],
                     sorted(diffs, key=lambda row: order[row[:-2]]),
                     title="Paired differences against the free net (same seeds)")
        _attacks.masking_checks(report, config, attacked, keys)
        mlp = [(f"{d}/{arm}", recs[0]) for (d, a, arm), recs in main.items() if a == "mlp"]
        as_there = lambda r: (r["lr"], r["init"]) == (1e-3, "glorot_uniform")  # noqa: E731 - robustness.md's setting
        report.text(
            (f"Training: Adam at the swept rate (sweep runs capped at {config.sweep_epochs} epochs), " if sweep else
             "Training: Adam at the one rate and initializer given (nothing to sweep), ") +
            f"constant, batch 128, early stopping on the validation "
            f"loss (patience {config.patience}, at most {config.max_epochs} epochs; the best "
            "epoch's weights are kept). "
            + (_sweep_cap_text(config, results, keys) + " " if sweep else "")
            + _attacks.describe(config, main, "a free net of the same architecture, trained as the free arm") + "\n\n"
            "Not at matched clean accuracy: where the arms' clean accuracies differ, part of a "
            "robustness difference can be the accuracy difference. The 'PGD / clean' row divides it "
            "out (the share of correctly classified images that PGD does not flip).\n\n"
            + ("Against the robustness report (robustness.md): the same MLP 784-256-10, seeds, data "
               "splits and order, and the same attacks (one implementation, `experiments/_attacks.py`). "
               "The runs differ in how an arm trains: here each arm uses the learning rate and "
               "initializer its sweep chose, there every arm Adam 1e-3 with Glorot, at most 40 epochs "
               "(robustness.md adds L1 / L2 / L1/2 nets and compares at matched clean accuracy). Trained "
               f"as there: {', '.join(k for k, r in mlp if as_there(r)) or 'none'}; trained otherwise: "
               + (", ".join(f"{k} ({r['lr']:g}, {r['init']})" for k, r in mlp if not as_there(r)) or "none")
               + ". An arm trained otherwise is a different net, so its numbers here and there may differ; "
               "for one trained the same way (and stopped before 40 epochs) they should agree within "
               "their intervals (the backend may differ: each report's Evidence names its own).\n\n"
               if mlp else "") +
            "Literature: Fleshman et al. (2018, arXiv:1806.06108, 'Non-Negative Networks Against "
            "Adversarial Attacks') report non-negative weights as an effective defence for binary "
            "classification with asymmetric cost (malware, spam), and, for images, a reduced ability to "
            "force targeted misclassification (their abstract); they do not claim robustness to "
            "untargeted L-inf attacks. No published figure for non-negative MLPs on (Fashion-)MNIST "
            "under FGSM/PGD was found; the table says what we measured."
            + (f"\n\nCNN arms (conv 5x5 16/32, dense 128, dropout 0.25): trained on {results.get('device')} with "
               f"{results.get('environment', {}).get('backend')}." if "cnn" in config.archs else
               "\n\nCNN arms (conv 5x5 16/32, dense 128): a report of their own, "
               f"positivity_cnn/positivity.md, from `{CNN_COMMAND}` (per data set "
               f"{sum(len(_candidates(config, {'arm': arm})) for arm in config.arms)} sweep runs, then "
               f"{len(config.arms) * config.seeds} runs and {config.seeds} substitutes to convergence; attacked "
               "at eps 0.1 only, on 1,000 images, to fit a CPU)."))
        panels = [(d, a) for d in config.datasets for a in config.archs]
        _attacks.figure(report, config, attacked, panels, config.arms, suffix="attacks")
        _report.loss_curve_figure(report, [(f"{d} / {a}", [(arm, main.get((d, a, arm), [])) for arm in config.arms])
                                           for d, a in panels],
                                  "Validation loss per epoch of every run (dots: the kept, best epoch).")


def _sweep_cap_text(config, results, keys):
    """Which sweep runs were still improving at the sweep's epoch cap (their best epoch the last):
    a cap favours the faster of two rates, so a choice among them is read with that in mind."""
    capped = [f"{'/'.join(r['arm'][k] for k in keys)} ({r['arm']['lr']:g}, {r['arm']['init']})"
              for r in results["runs"] if r["arm"].get("phase") == "sweep" and r["best_epoch"] >= config.sweep_epochs]
    return (f"Sweep runs whose best epoch was the {config.sweep_epochs}-epoch cap (still improving; a cap favours "
            f"the faster rate): {', '.join(capped)}." if capped else "No sweep run had its best epoch at the cap.")


def _candidates(config, arm):
    """The settings `{"lr", "init"}` an arm's sweep tries, in order (a free net keeps Glorot)."""
    return [{"lr": lr, "init": init} for lr in config.learning_rates
            for init in (config.inits if arm["arm"] != "free" else ("glorot_uniform",))]
