"""The sparsity report drawn from its results JSON (tables, claims, the frontier plot)."""

import numpy as np
from keras_seminar.experiments import _report, stats


def _pct(values):
    return stats.mean_ci(values).format(2, 100) if len(values) else "-"


def select(config, front, dataset, accepts):
    """`{method: (lambda, records, sparsity, (a, b))}`: for each penalty its largest lambda, and for
    magnitude pruning of the none / l2 nets its largest p (its sparsity), whose pruned accuracy `a`
    `accepts(a, b)` against the unregularized net's test accuracy `b` (paired by seed)."""
    ref, chosen = front.get((dataset, "none", 0.0), []), {}
    for (d, name, lam), recs in sorted(front.items(), key=lambda kv: kv[0][2]):
        options = [(name, lam, None, "pruned_accuracy")] + [
            (f"{name} + magnitude pruning", p, p, lambda r, p=p: r["magnitude"][str(p)])
            for p in config.prune_fractions if name in ("none", "l2")]
        for method, size, p, value in options if d == dataset else ():
            pairs = _report.paired(recs, ref, value, "test_accuracy")
            if pairs[0] and accepts(*pairs) and size > chosen.get(method, (-1,))[0]:
                chosen[method] = (size, (lam, recs, np.mean([r["sparsity"] for r in recs]) if p is None else p, pairs))
    return {method: entry for method, (_, entry) in chosen.items()}


def render(config, results, report):
    front = _report.group_runs(results, ("dataset", "penalty", "lambda"), phase="frontier")
    drop, margin = config.max_accuracy_drop, config.match_margin
    rules = {f"<= {100 * drop:g} point mean accuracy loss": lambda a, b: np.mean(np.subtract(a, b)) >= -drop,
             f"matched pruned accuracy (equivalent within ± {100 * margin:g} points, TOST)":
             lambda a, b: stats.equivalence(a, b, margin).equivalent}
    methods = [*config.grid, *(f"{n} + magnitude pruning" for n in ("none", "l2") if n in config.grid)]
    rows, chosen = [], {rule: [] for rule in rules}
    for dataset in config.datasets:
        for (d, name, lam), recs in front.items():
            a, b = _report.paired(recs, front.get((dataset, "none", 0.0), []), "pruned_accuracy", "test_accuracy")
            rows += [(dataset, name, f"{lam:g}", *(_pct([r[k] for r in recs]) for k in (
                "test_accuracy", "sparsity", "pruned_accuracy")), _pct(np.subtract(a, b)))] if d == dataset else []
        for rule, accepts in rules.items():
            best = select(config, front, dataset, accepts)
            for name in sorted(methods, key=lambda n: -best[n][2] if n in best else 1):
                lam, recs, sparsity, (a, b) = best.get(name, ("-", [], None, ((), ())))
                chosen[rule].append((dataset, name, f"{lam:g}" if recs else "-", "none qualifies" if not recs else
                                     f"{100 * sparsity:.2f} (set by p)" if "magnitude" in name else
                                     _pct([r["sparsity"] for r in recs]), _pct(np.subtract(a, b)),
                                     stats.equivalence(a, b, margin).interval.format(2, 100) if recs else "-"))
        _claims(report, config, dataset, best)  # at matched accuracy, the last rule
    report.table(["data set", "penalty", "lambda", "test acc, %", f"sparsity (|w| < {config.threshold:g}), %",
                  "test acc after pruning, %", "pruned - unregularized, points"], rows,
                 title="Frontier: every lambda (mean ± 95% CI over seeds; paired against 'none')")
    for rule, table in chosen.items():
        report.table(["data set", "method", "lambda", "sparsity, %", "accuracy change vs unregularized, points",
                      "its 90% CI (TOST), points"], table, title=f"Sparsity at {rule}: the largest lambda (p)")
    _finetune(config, results, report)
    data = ("the full data sets (54k training / 6k validation images, the 10k test images)"
            if config.train_limit is None and config.test_limit is None else
            f"the first {config.train_limit or 'all'} training and {config.test_limit or 'all'} test images")
    report.text(
        f"n = {len(results['seeds'])} seeds per setting on {data}. Control: the unregularized net of the same "
        "seed (frontier); an unregularized fine-tune of the same base for the same epochs (fine-tunes). Every "
        f"frontier net trains until its validation loss has not improved for {config.patience} epochs (at most "
        f"{config.max_epochs}; best weights kept), then |w| < {config.threshold:g} is set to 0 with no fine-tune "
        "after pruning. Magnitude pruning sets the smallest fraction p of all kernel weights to 0. A lambda's "
        "accuracy change is its pruned accuracy minus the unregularized net's test accuracy, paired by seed; "
        f"each penalty's row holds its largest lambda whose mean change is within {100 * drop:g} point, or, at "
        f"matched accuracy, whose change two one-sided t-tests at 5% show within ± {100 * margin:g} points "
        "(TOST: its 90% interval lies inside the margin; a smaller lambda need not qualify). Penalties are "
        "compared by their paired sparsity at the lambdas matched accuracy picked.\n\nLiterature: Wu et al. "
        "(2014, Neural Networks 50) introduced the smoothed L1/2 penalty used here; Han et al. (2015, "
        "'Learning both weights and connections') prune 92% of LeNet-300-100's weights on MNIST at no accuracy "
        "loss (267K → 22K weights, 1.64% → 1.59% test error, their Table 1), but with retraining after pruning, "
        "which this frontier does not do.\n\n" + plateau_text(config, results))
    _plots(config, front, report)


def plateau_text(config, results, last=5, tolerance=_report.PLATEAU_TOLERANCE):
    """Whether the frontier runs that reached the epoch cap were on their plateau: how much their
    validation loss (cross-entropy + penalty, the objective) still fell over the `last` epochs
    (on the plateau: by less than `tolerance`, relative)."""
    runs = [r for r in results["runs"] if r["arm"].get("phase") == "frontier"]
    capped = [r for r in runs if r["epochs_run"] >= config.max_epochs]
    head = f"{len(capped)} of {len(runs)} frontier runs reached the {config.max_epochs}-epoch cap"
    if not capped:
        return f"No frontier run reached the {config.max_epochs}-epoch cap: every one stopped early."
    falls = [f for f in (_report.last_fall(r["val_loss"], last) for r in capped) if f is not None]
    if not falls:
        return f"{head}, too few epochs to judge a plateau over {last}: these are not converged results."
    moving = sum(f >= tolerance for f in falls)
    verdict = ("every one is on its plateau (the curves below)" if not moving else
               f"{moving} still fell by {100 * tolerance:g}% or more: those runs are not converged and "
               "their points are not final (the curves below)")
    return (f"{head} before early stopping (a regularized objective keeps creeping down by tiny steps, "
            f"so a patience of {config.patience} epochs rarely ends it). Over their last {last} epochs "
            f"their validation loss fell by at most {100 * max(falls):.1f}% (median "
            f"{100 * float(np.median(falls)):.2f}%); counting a fall under {100 * tolerance:g}% as the "
            f"plateau, {verdict}.")


def _claims(report, config, dataset, best):
    """Paired sparsity of the most sparse penalty at matched accuracy against each other one."""
    names, within = [n for n in config.grid if n != "none"], f"(± {100 * config.match_margin:g} points, TOST)"
    top = max((n for n in names if n in best), key=lambda n: best[n][2], default=None)
    for other in (n for n in names if n in best and n != top):
        a, b = _report.paired(best[top][1], best[other][1], "sparsity")
        report.finding(f"{dataset}, sparsity at matched pruned accuracy {within}: " + stats.claim(
            f"{top} (lambda {best[top][0]:g})", a, f"{other} (lambda {best[other][0]:g})", b, digits=2, scale=100,
            unit=" points"))
    if any(n not in best for n in names):
        report.finding(f"{dataset}, matched pruned accuracy {within}: no lambda of "
                       f"{', '.join(n for n in names if n not in best)} is shown equivalent to the unregularized net "
                       "(each lambda's change is in the frontier table).")


def _start(r):
    """A fine-tune's base: its sha256 (older results: a shipped file, or a net "trained here" per seed)."""
    return r.get("pretrained_sha256") or (r["seed"] if r.get("pretrained", "trained here") == "trained here"
                                          else r["pretrained"])


def _finetune(config, results, report):
    groups = _report.group_runs(results, ("dataset", "model", "penalty"), phase="finetune")
    if not groups:
        return
    rows, starts = [], []
    for (dataset, model, name), recs in groups.items():
        control = groups.get((dataset, model, "none"), [])
        a, b = _report.paired(recs, control, "pruned_accuracy")
        rows.append((dataset, model, name, *(_pct([r[k] for r in recs]) for k in (
            "pretrained_accuracy", "test_accuracy", "sparsity", "pruned_accuracy")),
            _pct(np.subtract(a, b)) if name != "none" else "-"))
        if name == "none":
            k = len({_start(r) for r in recs})
            starts.append(f"{dataset}/{model}: {k} base(s) for {len(recs)} seeds, e.g. {recs[0].get('pretrained')}"
                          + (" (the seeds share a base: they vary only the fine-tune's data order)" * (k < len(recs))))
        elif a:
            s, c = _report.paired(recs, control, "sparsity")
            report.finding(f"{dataset}/{model} fine-tuned with {name} vs an equal-epochs unregularized fine-tune of "
                           "the same base; sparsity: " + stats.claim(name, s, "control", c, digits=2, scale=100,
                                                                    unit=" points")
                           + " Pruned accuracy: " + stats.equivalence_claim(
                               name, a, "control", b, config.match_margin, digits=2, scale=100, unit=" points"))
    report.table(["data set", "model", "fine-tune penalty", "base acc, %", "fine-tuned acc, %",
                  "sparsity, %", "pruned acc, %", "pruned acc - control, points"], rows,
                 title=f"Fine-tuning trained nets for {config.finetune_epochs} epochs (Adam 1e-4), "
                       "then pruning; 'none' is the equal-epochs control")
    report.text("Starting points (seed s fine-tunes base s where each seed has its own): " + "; ".join(starts) + ".")


def _plots(config, front, report):
    """The frontier (pruned accuracy vs sparsity) and every frontier run's validation loss."""
    datasets = [d for d in config.datasets if any(key[0] == d for key in front)]
    if not datasets:
        return
    (fig, axes), (fig2, axes2) = (_report.figure(ncols=len(datasets), width=5.0, height=h) for h in (3.8, 3.6))
    for ax, ax2, dataset in zip(axes, axes2, datasets):
        for i, name in enumerate(config.grid):
            groups = [recs for (d, n, _), recs in front.items() if d == dataset and n == name]
            pts = [(np.mean([r["sparsity"] for r in recs]), stats.mean_ci([r["pruned_accuracy"] for r in recs]))
                   for recs in groups]
            if pts:
                ax.errorbar([p[0] for p in pts], [p[1].mean for p in pts], [p[1].half_width or 0 for p in pts],
                            fmt="o-", color=f"C{i}", capsize=2, label=name)
            if name == "none" and groups:
                ax.plot(config.prune_fractions, [np.mean([r["magnitude"][str(p)] for r in groups[0]])
                                                 for p in config.prune_fractions], "k--", label="none + magnitude pruning")
        _report.curves(ax2, [(name, [r for (d, n, _), recs in front.items() if d == dataset and n == name
                                     for r in recs]) for name in config.grid], "val_loss", lw=0.7, alpha=0.6)
        ax.set(title=dataset, xlabel="fraction of zero weights after pruning", ylabel="test accuracy")
        ax2.set(title=dataset, xlabel="epoch", ylabel="validation loss (cross-entropy + penalty)", yscale="log")
    _report.legends([*axes, *axes2])
    report.save_figure(fig, "frontier", "Accuracy after pruning vs sparsity (mean, 95% CI); up and right is better.")
    report.save_figure(fig2, "curves", "Validation loss of every frontier run (every lambda and seed), "
                       "up to early stopping or the epoch cap.")
