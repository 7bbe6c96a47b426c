"""The learning-rate schedules report drawn from its results JSON (tables, claims, figures)."""

import dataclasses

import numpy as np
from keras_seminar.experiments import _report, stats

from keras_seminar.training import recipe_for


def _groups(results, sweep_lrs):
    """`(best constant rate, main runs by arm, sweep runs, range tests)`, each sorted by seed;
    the best rate is read from the sweep runs, as `_sweep` picks it (a partial run has no summary)."""
    runs = sorted(results["runs"], key=lambda r: r["seed"])
    sweep = sorted((r for r in runs if r["arm"].get("arm") == "constant" and r["seed"] == 0),
                   key=lambda r: sweep_lrs.index(r["arm"]["lr"]))
    best = max(sweep, key=lambda r: r["val_accuracy"])["arm"]["lr"] if sweep else None  # the first best
    main, tests = {}, []
    for r in runs:
        arm = r["arm"]
        if arm.get("phase") == "range_test":
            tests.append(r)
        elif arm["arm"] != "constant" or (arm["lr"] == best and len(sweep) == len(sweep_lrs)):
            main.setdefault(arm["arm"], []).append(r)
    return best, main, sweep, tests


def _time_cell(recs, key, digits):
    done = [r[key] for r in recs if r[key] is not None]
    if not done:
        return f"not reached (0/{len(recs)})"
    est = stats.mean_ci(done).format(digits)
    return est if len(done) == len(recs) else f"{est} ({len(done)}/{len(recs)} reached; the rest not within the budget)"


def _geometric(values):
    """A mean ± CI of log10 values, as `10^mean [10^low, 10^high]`."""
    est = stats.mean_ci(np.log10(values))
    if not est.has_ci:
        return f"{10 ** est.mean:.2g} (n=1, no CI)"
    return f"{10 ** est.mean:.2g} (95% CI {10 ** est.low:.2g} to {10 ** est.high:.2g}, n={est.n})"


def render(config, results, report):
    best, main, sweep, tests = _groups(results, config.sweep_lrs)
    target = config.target
    arm_label = {"constant": f"constant {best:g}" if best else "constant", "cyclical":
                 f"cyclical (triangular {config.clr_bounds[0]:g}-{config.clr_bounds[1]:g}, "
                 f"{config.clr_cycles} cycle(s))", "onecycle": f"one-cycle (peak {config.peak_lr:g})"}
    rows = [(arm_label[arm], stats.percent([r["test_accuracy"] for r in recs]), stats.percent([r["val_accuracy"] for r in recs]),
             _time_cell(recs, "epochs_to_target", 2), _time_cell(recs, "seconds_to_target", 1),
             stats.mean_ci([r["seconds"] for r in recs]).format(1))
            for arm in config.arms if (recs := main.get(arm))]
    report.table(["arm", f"test accuracy after {config.budget_epochs} epochs, %", "final validation accuracy, %",
                  f"epochs to {100 * target:g}% validation", f"seconds to {100 * target:g}% validation",
                  "training seconds (whole budget)"], rows,
                 title="Mean ± 95% CI over seeds (Student t, sample std)")
    diffs = []
    for a, b in (("cyclical", "constant"), ("onecycle", "constant"), ("onecycle", "cyclical")):
        ref = {r["seed"]: r for r in main.get(b, [])}
        pairs = [(r, ref[r["seed"]]) for r in main.get(a, []) if r["seed"] in ref]
        if not pairs:
            continue
        x, y = ([p[i]["test_accuracy"] for p in pairs] for i in (0, 1))
        report.finding(f"Test accuracy after {config.budget_epochs} epochs: " + stats.claim(
            arm_label[a], x, arm_label[b], y, digits=2, scale=100, unit=" points"))
        row = [f"{a} - {b}", stats.paired_difference(x, y).format(2, 100)]
        both = [(p[0]["epochs_to_target"], p[1]["epochs_to_target"]) for p in pairs
                if p[0]["epochs_to_target"] is not None and p[1]["epochs_to_target"] is not None]
        if len(both) == len(pairs):
            report.finding(f"Epochs to {100 * target:g}% validation accuracy: " + stats.claim(
                arm_label[a], [p[0] for p in both], arm_label[b], [p[1] for p in both], digits=2))
        if not both:
            row.append("no seed where both reached it")
        else:
            some = "" if len(both) == len(pairs) else f" (the {len(both)} seeds where both reached it)"
            row.append(stats.paired_difference(*zip(*both)).format(2) + some)
        diffs.append(row)
    report.table(["arms", "test accuracy difference, points", f"epochs-to-{100 * target:g}% difference"], diffs,
                 title="Paired differences (same seed: same split, data order and initial weights)")
    recipe = results.get("recipe") or dataclasses.asdict(recipe_for(config.model))  # partial: today's
    _range_text(config, recipe, best, sweep, tests, report)
    _figures(config, main, sweep, tests, arm_label, report)


def _range_text(config, recipe, best, sweep, tests, report):
    report.table(["constant rate", "final validation accuracy, % (seed 0)", "test accuracy, % (seed 0)", ""],
                 [(f"{r['arm']['lr']:g}", "diverged" if r.get("diverged") else f"{100 * r['val_accuracy']:.2f}",
                   "" if r.get("diverged") else f"{100 * r['test_accuracy']:.2f}",
                   "**used**" if r["arm"]["lr"] == best else "") for r in sweep],
                 title=f"Constant-rate sweep (seed 0, {config.budget_epochs} epochs each; the best is used)")
    if tests:
        steep, low = [r["suggested_lr"] for r in tests], [r["min_loss_lr_over_10"] for r in tests]
        each = lambda values: ", ".join(f"{v:.2g}" for v in values)  # noqa: E731
        report.table(["LR range test", "suggested rate (geometric mean over seeds)", "per seed"],
                     [("steepest descent of the smoothed loss (`suggested_lr`)", _geometric(steep), each(steep)),
                      ("loss minimum / 10 (`min_loss_lr_over_10`)", _geometric(low), each(low)),
                      ("best rate of the constant sweep (seed 0)", f"{best:g}" if best else "not run", "")],
                     title="LR range test vs the constant-rate sweep")
        sweep_best = f"{best:g}" if best else "not run"
        report.finding(f"LR range test ({config.range_steps} steps, {config.range_min_lr:g} to "
                       f"{config.range_max_lr:g}, Adam): steepest-descent suggestion {_geometric(steep)}; "
                       f"loss minimum / 10: {_geometric(low)}; best constant rate of the sweep over "
                       f"{', '.join(f'{lr:g}' for lr in config.sweep_lrs)}: {sweep_best}.")
    report.text(
        f"Every run: the zoo `{config.model}` with its recipe ({recipe['optimizer']}, batch "
        f"{recipe['batch_size']}, label smoothing {recipe['label_smoothing']:g}), "
        f"{config.budget_epochs} epochs, only the learning rate differs. One-cycle is the "
        "recipes' `onecycle` (linear warm-up from peak/10 over the first "
        f"{100 * recipe['warmup']:g}% of steps, then cosine decay to 0). The cyclical rate is "
        "`keras_seminar.schedules.CyclicalLearningRate` (triangular), set before every step by a "
        "callback on a constant-rate recipe (the recipes have no cyclical schedule); its half cycle "
        f"is {config.budget_epochs / (2 * config.clr_cycles):g} epochs, so the budget ends at "
        "the low bound, as Smith (2017) advises. Both schedules are laid over the budget, so their "
        "time to the target depends on it; the constant rate's does not. Seconds are wall-clock "
        "from the start of `fit` (per-epoch validation included) on a shared 2-core CPU: compare "
        "them within this report, not across machines. The constant arm's rate was chosen on seed "
        "0's validation accuracy, and seed 0's run is that sweep run (a small selection in its "
        "favour).\n\n"
        "Literature: Smith (2017, WACV, 'Cyclical Learning Rates for Training Neural Networks') "
        "reports, on CIFAR-10 with Caffe's CIFAR-10 net, the standard fixed rate's 81.4% after "
        "70,000 iterations reached by the triangular2 CLR after 25,000 (his Table 1), and proposes "
        "the LR range test for the bounds. With Adam, the setting closest to ours, CLR did not help "
        "there: 79.8% after 25,000 and 81.1% after 70,000 iterations vs 81.4% for the fixed rate "
        "(his Table 3). He advises half cycles of 2-10 epochs, at least 3 cycles, and stopping at "
        f"the end of a cycle; ours are {config.budget_epochs / (2 * config.clr_cycles):g} epochs "
        f"({config.clr_cycles} cycles in the {config.budget_epochs}-epoch budget). Smith & Topin "
        "(2019, 'Super-Convergence') propose the one-cycle policy. Neither reports Fashion-MNIST; "
        "the numbers above are ours.")


def _figures(config, main, sweep, tests, arm_label, report):
    fig, axes = _report.figure(ncols=3, width=4.2, height=3.3)
    for i, arm in enumerate(config.arms):
        for j, r in enumerate(main.get(arm, [])):
            acc = 100 * np.asarray(r["history"]["val_accuracy"])
            label = arm_label[arm] if j == 0 else None
            axes[0].plot(np.arange(1, len(acc) + 1), acc, "o-", color=f"C{i}", alpha=0.6, lw=1, ms=2, label=label)
            axes[1].plot(r["epoch_seconds"], acc, "o-", color=f"C{i}", alpha=0.6, lw=1, ms=2, label=label)
        if main.get(arm):
            steps, lrs = zip(*main[arm][0]["lr_trace"])
            axes[2].plot(steps, lrs, color=f"C{i}", label=arm_label[arm])
    for ax, xlabel in ((axes[0], "epoch"), (axes[1], "seconds (shared 2-core CPU)")):
        ax.axhline(100 * config.target, color="grey", ls="--", lw=1)
        ax.set(xlabel=xlabel, ylabel="validation accuracy, %", title="validation accuracy (dashed: target)")
    axes[2].set(xlabel="step", ylabel="learning rate", title="the rate each arm used (seed 0)")
    _report.legends(axes)
    report.save_figure(fig, "curves", "Validation accuracy per epoch and per second of every run, "
                       "and the learning rate of each arm.")
    if not tests:
        return
    fig, axes = _report.figure(ncols=2, width=4.4, height=3.3)
    for j, r in enumerate(tests):
        axes[0].plot(r["lrs"], r["smoothed"], color="C0", alpha=0.5, lw=1, label="smoothed loss" if j == 0 else None)
        axes[0].axvline(r["suggested_lr"], color="C1", alpha=0.5, lw=1, label="suggested_lr" if j == 0 else None)
        axes[0].axvline(r["min_loss_lr_over_10"], color="C3", alpha=0.5, lw=1, ls="--",
                        label="min_loss_lr_over_10" if j == 0 else None)
    axes[0].set(xscale="log", xlabel="learning rate", ylabel="training loss (smoothed)",
                title="LR range test, one per seed")
    done = [r for r in sweep if not r.get("diverged")]
    axes[1].plot([r["arm"]["lr"] for r in done], [100 * r["val_accuracy"] for r in done], "o-", color="C2")
    for r in tests:
        axes[1].axvline(r["suggested_lr"], color="C1", alpha=0.5, lw=1)
        axes[1].axvline(r["min_loss_lr_over_10"], color="C3", alpha=0.5, lw=1, ls="--")
    axes[1].set(xscale="log", xlabel="constant learning rate", ylabel="final validation accuracy, %",
                title="constant-rate sweep (seed 0)")
    axes[0].legend(fontsize=7)
    axes[0].set_xlim(config.range_min_lr, config.range_max_lr)
    report.save_figure(fig, "lr_range", "LR range test per seed (solid lines: suggested_lr, the "
                       "steepest descent of the smoothed loss; dashed: the loss minimum's rate / 10) "
                       "against the constant-rate sweep.")
