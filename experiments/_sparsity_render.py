"""The sparsity report drawn from its results JSON (tables, claims, the frontier plot)."""

import numpy as np
from keras_seminar.experiments import _report, stats


def _pct(values):
    return stats.mean_ci(values).format(2, 100) if len(values) else "-"


def render(config, results, report):
    front = _report.group_runs(results, ("dataset", "penalty", "lambda"), phase="frontier")
    drop = config.max_accuracy_drop
    rows, best_rows = [], []
    for dataset in config.datasets:
        ref = front.get((dataset, "none", 0.0), [])
        best = {}
        for (d, name, lam), recs in front.items():
            if d != dataset:
                continue
            a, b = _report.paired(recs, ref, "pruned_accuracy", "test_accuracy")
            diff = stats.mean_ci(np.subtract(a, b)) if a else None
            rows.append((dataset, name, f"{lam:g}", _pct([r["test_accuracy"] for r in recs]),
                         _pct([r["sparsity"] for r in recs]), _pct([r["pruned_accuracy"] for r in recs]),
                         diff.format(2, 100) if diff else "-"))
            sparsity = np.mean([r["sparsity"] for r in recs])
            if diff and diff.mean >= -drop and sparsity > best.get(name, (-1,))[0]:
                best[name] = (sparsity, lam, recs, diff)
        for (d, name, lam), recs in front.items():  # magnitude pruning of the none / l2 nets
            if d != dataset or name not in ("none", "l2"):
                continue
            for p in config.prune_fractions:
                a, b = _report.paired([{**r, "m": r["magnitude"][str(p)]} for r in recs], ref, "m", "test_accuracy")
                diff = stats.mean_ci(np.subtract(a, b)) if a else None
                key = f"{name} + magnitude pruning"
                if diff and diff.mean >= -drop and p > best.get(key, (-1,))[0]:
                    best[key] = (p, lam, recs, diff)
        for name, (sparsity, lam, recs, diff) in sorted(best.items(), key=lambda kv: -kv[1][0]):
            s = (_pct([r["sparsity"] for r in recs]) if "magnitude" not in name
                 else f"{100 * sparsity:.2f} (set by p)")
            best_rows.append((dataset, name, f"{lam:g}", s, diff.format(2, 100)))
        _claims(report, dataset, best)
    report.table(["data set", "penalty", "lambda", "test acc, %", f"sparsity (|w| < {config.threshold:g}), %",
                  "test acc after pruning, %", "pruned - unregularized, points"], rows,
                 title="Frontier: every lambda (mean ± 95% CI over seeds; paired against 'none')")
    report.table(["data set", "method", "lambda", "sparsity, %", "accuracy change vs unregularized, points"],
                 best_rows, title=f"Sparsity reached at <= {100 * drop:g} point mean accuracy loss")
    _finetune(config, results, report)
    report.text(
        f"Every net trains until its validation loss has not improved for {config.patience} epochs "
        f"(at most {config.max_epochs}; best weights kept), then |w| < {config.threshold:g} is set "
        "to 0 with no fine-tune after pruning. Magnitude pruning sets the smallest fraction p of all "
        "kernel weights to 0. A lambda is eligible when its mean paired accuracy change is within "
        f"{100 * drop:g} point of the unregularized net.\n\nLiterature: Wu et al. (2014, Neural "
        "Networks 50) introduced the smoothed L1/2 penalty used here; Han et al. (2015, 'Learning "
        "both weights and connections') prune 92% of LeNet-300-100's weights on MNIST at no "
        "accuracy loss (267K → 22K weights, 1.64% → 1.59% test error, their Table 1), but with retraining after pruning, which this frontier does not do.\n\n"
        + plateau_text(config, results))
    _frontier_plot(config, front, report)
    _curves(config, front, report)


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


def _curves(config, front, report):
    datasets = [d for d in config.datasets if any(key[0] == d for key in front)]
    if not datasets:
        return
    fig, axes = _report.figure(ncols=len(datasets), width=5.0, height=3.6)
    for ax, dataset in zip(axes, datasets):
        for i, name in enumerate(config.grid):
            first = True
            for (d, n, _), recs in front.items():
                if d != dataset or n != name:
                    continue
                for r in recs:
                    ax.plot(np.arange(1, len(r["val_loss"]) + 1), r["val_loss"], color=f"C{i}", lw=0.7,
                            alpha=0.6, label=name if first else None)
                    first = False
        ax.set(title=dataset, xlabel="epoch", ylabel="validation loss (cross-entropy + penalty)", yscale="log")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    report.save_figure(fig, "curves", "Validation loss of every frontier run (every lambda and seed), "
                       "up to early stopping or the epoch cap.")


def _claims(report, dataset, best):
    names = [n for n in best if n != "none"]
    if len(names) < 2:
        return
    top = max(names, key=lambda n: best[n][0])
    for other in names:
        if other == top or "magnitude" in other or "magnitude" in top:
            continue
        a, b = _report.paired(best[top][2], best[other][2], "sparsity")
        if a:
            report.finding(f"{dataset}, sparsity at <= 1 point loss: " + stats.claim(
                f"{top} (lambda {best[top][1]:g})", a, f"{other} (lambda {best[other][1]:g})", b,
                digits=2, scale=100, unit=" points"))


def _finetune(config, results, report):
    groups = _report.group_runs(results, ("dataset", "model", "penalty"), phase="finetune")
    if not groups:
        return
    rows = []
    for (dataset, model, name), recs in groups.items():
        control = groups.get((dataset, model, "none"), [])
        a, b = _report.paired(recs, control, "pruned_accuracy")
        rows.append((dataset, model, name, _pct([r["pretrained_accuracy"] for r in recs]),
                     _pct([r["test_accuracy"] for r in recs]), _pct([r["sparsity"] for r in recs]),
                     _pct([r["pruned_accuracy"] for r in recs]),
                     stats.paired_difference(a, b).format(2, 100) if a and name != "none" else "-"))
        if name != "none" and a:
            s, c = _report.paired(recs, control, "sparsity")
            report.finding(f"{dataset}/{model} fine-tuned with {name} vs an equal-epochs unregularized "
                           "fine-tune, sparsity: " + stats.claim(name, s, "control", c, digits=2, scale=100,
                                                                unit=" points"))
    report.table(["data set", "model", "fine-tune penalty", "trained acc, %", "fine-tuned acc, %",
                  "sparsity, %", "pruned acc, %", "pruned acc - control, points"], rows,
                 title=f"Fine-tuning trained nets for {config.finetune_epochs} epochs (Adam 1e-4), "
                       "then pruning; 'none' is the equal-epochs control")
    sources = sorted({f"{r['arm']['model']}: {r.get('pretrained', 'trained here')}"
                      for recs in groups.values() for r in recs})
    report.text("Starting points (a shipped zoo model is one trained net; the seeds then vary "
                "only the fine-tune's data order): " + "; ".join(sources) + ".")


def _frontier_plot(config, front, report):
    fig, axes = _report.figure(ncols=len(config.datasets), width=5.0, height=3.8)
    for ax, dataset in zip(axes, config.datasets):
        for i, name in enumerate(config.grid):
            pts = [(np.mean([r["sparsity"] for r in recs]), stats.mean_ci([r["pruned_accuracy"] for r in recs]))
                   for (d, n, _), recs in front.items() if d == dataset and n == name]
            if pts:
                ax.errorbar([p[0] for p in pts], [p[1].mean for p in pts], [p[1].half_width or 0 for p in pts],
                            fmt="o-", color=f"C{i}", capsize=2, label=name)
        for (d, n, _), recs in front.items():
            if d == dataset and n == "none":
                ys = [np.mean([r["magnitude"][str(p)] for r in recs]) for p in config.prune_fractions]
                ax.plot(config.prune_fractions, ys, "k--", label="none + magnitude pruning")
        ax.set(title=dataset, xlabel="fraction of zero weights after pruning", ylabel="test accuracy")
        ax.legend(fontsize=7)
    report.save_figure(fig, "frontier", "Accuracy after pruning vs sparsity (mean, 95% CI); up and right is better.")
