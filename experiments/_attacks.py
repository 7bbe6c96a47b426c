"""The attacks the positivity and robustness experiments share, and their tables and figure.

Every attacked net meets three L-inf attacks on the same seeded test images, at each eps of
`config.eps`: FGSM, white-box PGD (`pgd_steps` steps from a random start, the worst of
`pgd_restarts` restarts: an image counts as robust only if every restart fails) and a transfer
attack, PGD crafted on a substitute (a free net of the same kind trained on its own seed, seed +
`substitute_seed_offset`), crafted once per seed so that every arm of the seed meets the same
examples. A transfer attack that beats the white-box one is a sign of gradient masking (Athalye
et al. 2018). An experiment using this declares those config fields and `attack_limit`.
"""

from typing import Annotated

import numpy as np
from keras_seminar.experiments import _report, _runner, stats
from keras_seminar.experiments._config import Range

from keras_seminar import adversarial

__all__ = ["ATTACKS", "CHANCE_FLOOR", "Eps", "attack_set", "describe", "figure", "headline", "masking_checks", "measure",
           "pgd_accuracy", "tables", "trained"]

ATTACKS = ("fgsm", "pgd", "transfer")
Eps = Annotated[float, Range(0, 1, low_open=True)]  # an L-inf attack size on pixels in [0, 1]
# A 10-class net whose clean test accuracy ends below this did not train (chance is 10 %).
CHANCE_FLOOR = 0.2


def pgd_accuracy(config, model, x, y, eps, seed, source=None, crafted=None):
    """Accuracy of `model` under PGD crafted on `source` (default: `model`, white-box), worst of
    restarts. `crafted` (a dict) keeps the examples per (eps, restart) for the next target: a
    transfer attack's examples depend on the source alone, so every arm of a seed meets the same."""
    robust = np.ones(len(y), bool)
    for r in range(config.pgd_restarts):
        x_adv = (crafted or {}).get((eps, r))
        if x_adv is None:
            x_adv = adversarial.pgd(source or model, x, y, eps, steps=config.pgd_steps, seed=1000 * seed + r)
            if crafted is not None:
                crafted[(eps, r)] = x_adv
        robust &= adversarial.predict_labels(model, x_adv) == y
    return float(robust.mean())


def attack_set(experiment, key, config, data, seed, train_substitute):
    """`(x, y, substitute, crafted)`: the seed's attacked images (`_runner.test_subset`), the
    substitute `train_substitute(seed + config.substitute_seed_offset)` returns and the dict its
    PGD examples go to, made once for the consecutive runs of `experiment` that share `key`."""
    def make():
        x, y = _runner.test_subset(data, config.attack_limit, seed)
        return x, y, train_substitute(seed + config.substitute_seed_offset), {}

    return experiment.shared("attack", key, make)


def measure(config, model, attacked, seed):
    """A run's attack fields: its clean accuracy on the attacked images, and its accuracy under
    FGSM, white-box PGD and the transfer attack at each eps (`attacked`: from `attack_set`)."""
    x, y, substitute, crafted = attacked
    return dict(attacked_clean=float(np.mean(adversarial.predict_labels(model, x) == y)), attacked_images=len(y),
                fgsm=adversarial.robustness_curve(model, x, y, list(config.eps), "fgsm")["accuracy"],
                pgd=[pgd_accuracy(config, model, x, y, e, seed) for e in config.eps],
                transfer=[pgd_accuracy(config, model, x, y, e, seed, substitute, crafted) for e in config.eps])


def headline(config):
    """The index in `config.eps` of the headline eps, 0.1 (else the first)."""
    return config.eps.index(0.1) if 0.1 in config.eps else 0


def describe(config, groups, substitute):
    """The attacks as run, in words, for a report's text: their images, steps, restarts,
    `substitute` (what the transfer attack's source net is) and the `trained` rule."""
    n = next(iter(groups.values()))[0]["attacked_images"] if groups else 0
    return (f"Attacks (L-inf, on the softmax's cross-entropy, {n} seeded random test images per seed): FGSM; "
            f"white-box PGD with {config.pgd_steps} steps of 2.5 eps/steps from a random start, "
            f"{config.pgd_restarts} restart(s) (an image counts only if every restart fails); and the same PGD "
            f"crafted on a substitute ({substitute} from seed + {config.substitute_seed_offset}) and transferred. "
            f"A run whose clean test accuracy ends below {100 * CHANCE_FLOOR:.0f}% (chance: 10%) stayed at chance: "
            "it counts in the clean-accuracy comparisons (not training is its arm's failure) but not under "
            "attack, where a net predicting one class keeps its clean accuracy and would look robust; its "
            "pair in a paired comparison is left out with it.")


def trained(report, groups, what):
    """`groups` without the runs that stayed at chance (clean test accuracy < `CHANCE_FLOOR`),
    for the attack tables and comparisons: a net that predicts one class keeps its clean accuracy
    under every attack and would look robust. Adds a finding per group that lost runs (`what(key)`
    names the group); groups left empty are dropped. Clean-accuracy comparisons keep every run:
    not training is the arm's own failure."""
    kept = {}
    for key, recs in groups.items():
        low = [r for r in recs if r["test_accuracy"] < CHANCE_FLOOR]
        if low:
            report.finding(
                f"{what(key)}: {len(low)} of {len(recs)} seeds stayed at chance ("
                + ", ".join(f"seed {r['seed']}: {100 * r['test_accuracy']:.2f}% clean" for r in low)
                + "); left out of the attack tables and comparisons (with their pairs), kept in the clean ones.")
        if len(low) < len(recs):
            kept[key] = [r for r in recs if r["test_accuracy"] >= CHANCE_FLOOR]
    return kept


def value(r, key, i=None):
    """A run's `key` (its i-th entry for the per-eps lists); "pgd_share" is PGD accuracy over
    clean accuracy on the attacked images: the share of correctly classified images that PGD
    does not flip (a misclassified image stays misclassified under a loss-ascent attack)."""
    if key == "pgd_share":
        return r["pgd"][i] / r["attacked_clean"] if r["attacked_clean"] else 0.0
    return r[key] if i is None else r[key][i]


def tables(report, config, groups, columns, substitute="MLP"):
    """One accuracy table per attack, a row per group (`columns`: the names of its key's parts)."""
    names = {"fgsm": "FGSM (white-box)",
             "pgd": f"PGD-{config.pgd_steps}, {config.pgd_restarts} restarts (white-box)",
             "transfer": f"PGD crafted on a separately trained free {substitute} (black-box transfer)"}
    for attack in ATTACKS:
        rows = [(*key, stats.percent([r["test_accuracy"] for r in recs], 1),
                 *(stats.percent([r[attack][i] for r in recs], 1) for i in range(len(config.eps))))
                for key, recs in groups.items()]
        report.table([*columns, "clean test acc, %", *(f"eps={e:g}, %" for e in config.eps)], rows,
                     title=f"{names[attack]}: accuracy, mean ± 95% CI over seeds")


def masking_checks(report, config, groups, columns):
    """The gradient-masking table (Athalye et al. 2018), a row per group, every seed checked."""
    rows, eps = [], range(len(config.eps))
    for key, recs in groups.items():
        pgd_le_fgsm = all(r["pgd"][i] <= r["fgsm"][i] + 1e-9 for r in recs for i in eps)
        transfer_ge = all(r["transfer"][i] >= r["pgd"][i] - 1e-9 for r in recs for i in eps)
        fgsm_falls = all(np.all(np.diff(r["fgsm"]) <= 1e-9) for r in recs)
        rows.append((*key, *("yes" if ok else "**no**" for ok in (pgd_le_fgsm, transfer_ge, fgsm_falls)),
                     f"{100 * np.mean([r['pgd'][-1] for r in recs]):.1f}"))
    report.table([*columns, "PGD <= FGSM at every eps and seed", "transfer >= white-box",
                  "FGSM accuracy falls as eps grows", f"PGD accuracy at eps={config.eps[-1]:g}, %"], rows,
                 title="Gradient-masking checks (Athalye et al. 2018; a 'no' means the white-box numbers overstate robustness)")


def figure(report, config, groups, panels, arms, suffix="curves"):
    """Accuracy vs eps under each attack (mean over seeds): a row of three panels per key prefix
    of `panels` (e.g. `("mnist",)`), a line per arm of `arms` (the key's last part)."""
    fig, axes = _report.figure(ncols=3, nrows=len(panels), width=4.0, height=3.2)
    for row, prefix in enumerate(panels):
        for col, attack in enumerate(ATTACKS):
            ax = axes[3 * row + col]
            for i, arm in enumerate(arms):
                recs = groups.get((*prefix, arm))
                if recs:
                    ys = [np.mean([r["attacked_clean"] for r in recs])] + [np.mean([r[attack][j] for r in recs])
                                                                           for j in range(len(config.eps))]
                    ax.plot([0.0, *config.eps], ys, "o-", color=f"C{i}", label=arm)
            ax.set(title=f"{'/'.join(prefix)}: {attack}", xlabel="eps (L-inf)", ylabel="accuracy", ylim=(0, 1))
    _report.legends(axes, fontsize=6)
    report.save_figure(fig, suffix, "Accuracy under attack vs eps (mean over seeds).")
