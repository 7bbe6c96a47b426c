"""The information-plane report drawn from its results JSON: per estimator (binning at several bin
counts, the KDE bound) the change of I(X;T) after fitting beside its two controls (random
activations, nets trained on permuted labels), claims from paired 95% intervals, and the figures."""

import numpy as np
from keras_seminar.experiments import _report, stats

LABELS = {"sz2017": "12-bit task", "mnist": "MNIST"}
FIT_FRACTION = 0.95  # a layer has fitted when its I(T;Y) first reaches 95% of its own maximum


def fit_index(ity):
    """Per layer: the first measured epoch index where I(T;Y) reaches FIT_FRACTION of its maximum."""
    ity = np.asarray(ity, float)
    return [int(np.argmax(ity[:, j] >= FIT_FRACTION * ity[:, j].max() - 1e-12)) for j in range(ity.shape[1])]


def _names(recs):
    """The estimators of a task's records, the main one (that of the arm tables) first."""
    return list(recs[0]["estimates"])


def _view(rec, name):
    """A record with one estimator's informations as its own "I_XT", "I_TY", "control_..." keys."""
    return {**rec, **rec["estimates"][name]}


def _at(rec, key, i):
    return np.asarray(rec[key][i], float)


def summaries(recs):
    """Per-run arrays of one arm's views: I(X;T) / I(T;Y) at epoch 0, at the end of fitting and
    last, the end-of-fitting epoch, and the last epoch's controls; each (runs, layers)."""
    out = {k: [] for k in ("xt0", "xt_fit", "xt_last", "ty0", "ty_last", "fit_epoch", "c_xt", "c_ty_real", "c_ty")}
    for r in recs:
        xt, fit = np.asarray(r["I_XT"], float), fit_index(r["I_TY"])
        out["xt0"].append(xt[0])
        out["xt_fit"].append([xt[i, j] for j, i in enumerate(fit)])
        out["xt_last"].append(xt[-1])
        out["ty0"].append(_at(r, "I_TY", 0))
        out["ty_last"].append(_at(r, "I_TY", -1))
        out["fit_epoch"].append([r["epochs"][i] for i in fit])
        out["c_xt"].append(_at(r, "control_I_XT", -1))
        out["c_ty_real"].append(_at(r, "control_real_I_TY", -1))
        out["c_ty"].append(r["control_I_TY"])
    return {k: np.asarray(v, float) for k, v in out.items()}


def _change(values, fit):
    """Per layer j: values[last][j] - values[fit[j]][j]."""
    return [values[-1][j] - values[i][j] for j, i in enumerate(fit)]


def deltas(real, permuted, name):
    """`(seeds, d, d_random, d_permuted)`: per seed with both runs and per layer, I(X;T) at the
    last epoch minus at the end of fitting (the real run's, under estimator `name`), of the net,
    of its random control and of the permuted-label net of the same seed over the same epochs."""
    twins = {r["seed"]: r for r in permuted}
    seeds, d, d_rand, d_perm = [], [], [], []
    for r in real:
        if r["seed"] not in twins:
            continue
        v, p = _view(r, name), _view(twins[r["seed"]], name)
        fit = fit_index(v["I_TY"])
        seeds.append(r["seed"])
        d.append(_change(v["I_XT"], fit))
        d_rand.append(_change(v["control_I_XT"], fit))
        d_perm.append(_change(p["I_XT"], fit))
    return seeds, *(np.asarray(x, float) for x in (d, d_rand, d_perm))


def _ci(values, digits=2):
    """`mean ± half-width` (the tables' titles give n); the mean alone for one run."""
    est = stats.mean_ci(values)
    mean = f"{round(est.mean, digits) + 0.0:.{digits}f}"  # + 0.0: no "-0.00"
    return f"{mean} ± {est.half_width:.{digits}f}" if est.has_ci else mean


def _below(values):
    est = stats.mean_ci(values)
    return est.has_ci and est.high < 0


def layer_names(config, task, n_layers):
    hidden = config.hidden if task == "sz2017" else config.mnist_hidden
    return [f"fc{i + 1} ({w})" for i, w in enumerate(hidden)][:n_layers - 1] + ["output"]


def _label(name, config):
    return f"KDE bound (σ² = {config.kde_noise_variance:g})" if name == "kde" else f"{name[4:]} bins"


def _arm_table(report, config, task, activation, recs, name):
    s = summaries([_view(r, name) for r in recs])
    names = layer_names(config, task, s["xt0"].shape[1])
    rows = [(n, _ci(s["xt0"][:, j]), f"{_ci(s['xt_fit'][:, j])} (epoch {np.median(s['fit_epoch'][:, j]):g})",
             _ci(s["xt_last"][:, j]), _ci(s["xt_last"][:, j] - s["xt_fit"][:, j]),
             f"{_ci(s['ty0'][:, j], 3)} -> {_ci(s['ty_last'][:, j], 3)}",
             f"{_ci(s['c_xt'][:, j])} / {_ci(s['c_ty_real'][:, j], 3)} / {_ci(s['c_ty'][:, j], 3)}")
            for j, n in enumerate(names)]
    report.table(["layer", "I(X;T) epoch 0", "I(X;T) end of fitting (median epoch)", "I(X;T) last epoch",
                  "last - end of fitting (paired)", "I(T;Y) epoch 0 -> last",
                  "random control, last epoch: I(X;T) / I(T;Y) real labels / I(T;Y) permuted labels"],
                 rows, title=f"{LABELS[task]}, {activation}, {_label(name, config)}: "
                             f"bits, mean ± 95% CI over {len(recs)} runs")
    return s, names


def _verdicts(report, config, groups):
    """The table of every layer's change of I(X;T) after fitting beside both controls, under every
    estimator; returns `{(task, activation): (layers apart from both controls under all of them,
    {other layer: its first failed test, in words})}`."""
    rows, out = [], {}
    for (task, activation, labels), real in groups.items():
        permuted = groups.get((task, activation, "permuted"), [])
        if labels != "real" or not permuted:
            continue
        names = layer_names(config, task, len(real[0]["estimates"][_names(real)[0]]["I_XT"][0]))
        failed = {}
        for name in _names(real):
            seeds, d, d_rand, d_perm = deltas(real, permuted, name)
            for j, layer in enumerate(names if seeds else []):
                tests = {"Δ": d[:, j], "Δ - the random control's Δ": d[:, j] - d_rand[:, j],
                         "Δ - the permuted-label net's Δ": d[:, j] - d_perm[:, j]}
                bad = [k for k, v in tests.items() if not _below(v)]  # one run: no interval, never below
                ok = not bad
                if bad and layer not in failed:
                    failed[layer] = f"{layer}: {bad[0]} is {_ci(tests[bad[0]])} under {_label(name, config)}"
                rows.append((LABELS[task], activation, _label(name, config), layer,
                             len(seeds), _ci(d[:, j]), _ci(d[:, j] - d_rand[:, j]), _ci(d[:, j] - d_perm[:, j]),
                             "yes" if ok else "no"))
        if not rows or rows[-1][:2] != (LABELS[task], activation):  # no seed has both runs
            failed = {n: f"{n}: no seed has both a real- and a permuted-label run" for n in names}
        out[(task, activation)] = ([n for n in names if n not in failed], failed)
    if rows:
        report.table(["task", "activation", "estimator", "layer", "n", "ΔI(X;T) = last - end of fitting",
                      "Δ - random control's Δ", "Δ - permuted-label net's Δ", "below 0 in all three"], rows,
                     title="Compression beside both controls, every estimator (bits, mean ± 95% CI, paired by seed)")
    return out


def render(config, results, report):
    groups = _report.group_runs(results, ("task", "activation", "labels"))
    strict = _verdicts(report, config, groups)
    for task in ("sz2017", "mnist"):
        for activation in config.activations:
            recs = groups.get((task, activation, "real"), [])
            if not recs:
                continue
            main = _names(recs)[0]
            s, names = _arm_table(report, config, task, activation, recs, main)
            j = len(names) - 2  # the last hidden layer
            report.finding(f"{LABELS[task]}, {activation}, fitting, {names[j]}: "
                           + stats.claim("I(T;Y) at the last epoch", s["ty_last"][:, j], "at epoch 0",
                                         s["ty0"][:, j], digits=3, unit=" bits"))
            down = [n for i, n in enumerate(names) if _below(s["xt_last"][:, i] - s["xt_fit"][:, i])]
            kept, failed = strict.get((task, activation), (None, {}))
            if kept is None:
                verdict = "no permuted-label runs to compare with, so no compression is claimed."
            else:
                why = "; ".join(failed[n] for n in down if n in failed)
                verdict = (f"apart from both controls (random activations, permuted-label nets) under every "
                           f"estimator ({', '.join(_label(n, config) for n in _names(recs))}) in "
                           + (", ".join(kept) if kept else "no layer: no compression is distinguishable from the "
                              "controls") + (f" (first failed test of the others: {why})" if why else "") + ".")
            report.finding(f"{LABELS[task]}, {activation} (n={len(recs)}): I(X;T) falls after fitting under "
                           f"{_label(main, config)} alone (paired 95% CI below 0) in {', '.join(down) or 'no layer'}; "
                           + verdict)
            _control_finding(report, task, activation, names, s, recs)
    _compare(report, config, groups)
    _accuracy_table(report, groups)
    _conclusion(report, strict)
    _figures(report, config, groups)
    _text(report, config)


def _compare(report, config, groups):
    """tanh vs ReLU, paired by seed: the change of I(X;T) from the end of fitting to the last epoch."""
    if len(config.activations) < 2:
        return
    a, b = config.activations[:2]
    for task in ("sz2017", "mnist"):
        ra, rb = groups.get((task, a, "real"), []), groups.get((task, b, "real"), [])
        common = sorted({r["seed"] for r in ra} & {r["seed"] for r in rb})
        if len(common) < 2:
            continue
        main = _names(ra)[0]
        sa, sb = (summaries([_view(r, main) for r in rs if r["seed"] in common]) for rs in (ra, rb))
        da, db = sa["xt_last"] - sa["xt_fit"], sb["xt_last"] - sb["xt_fit"]
        names = layer_names(config, task, da.shape[1])
        j = len(names) - 2  # the last hidden layer
        report.finding(f"{LABELS[task]}, last hidden layer {names[j]}, change of I(X;T) after fitting "
                       f"({_label(main, config)}): " + stats.claim(a, da[:, j], b, db[:, j], digits=2, unit=" bits"))


def _control_finding(report, task, activation, names, s, recs):
    """Where the last epoch's estimates differ from their random control (paired by run), and how
    close I(X;T) comes to its ceiling log2(N)."""
    below = [n for j, n in enumerate(names) if _below(s["xt_last"][:, j] - s["c_xt"][:, j])]
    above = [n for j, n in enumerate(names) if _below(s["c_ty_real"][:, j] - s["ty_last"][:, j])]
    probe = recs[0].get("probe", 4096)
    ceiling, top = np.log2(probe), float(np.max(s["xt_last"].mean(0)))
    report.finding(
        f"{LABELS[task]}, {activation} (n={len(recs)}), last epoch, main estimator vs random control: I(X;T) "
        f"below the control's in {', '.join(below) or 'no layer'}; I(T;Y) above the control's (real labels) in "
        f"{', '.join(above) or 'no layer'} (paired 95% CIs; elsewhere the estimate is not told apart from "
        f"random activations); the largest mean I(X;T) is {top:.2f} bits, {ceiling - top:.2f} below the "
        f"ceiling log2({probe}) = {ceiling:.2f}.")


def _accuracy_table(report, groups):
    rows = []
    for (task, activation, labels), recs in groups.items():
        train = [r["train_accuracy"][-1] if task == "sz2017" else r["train_accuracy_per_epoch"][-1] for r in recs]
        last = [r["epochs"][-1] for r in recs]
        rows.append((LABELS[task], activation, labels, len(recs), f"{np.median(last):g} ({min(last)}-{max(last)})",
                     stats.mean_ci(train).format(2, 100), stats.mean_ci([r["test_accuracy"][-1] for r in recs]).format(2, 100)))
    report.table(["task", "activation", "labels", "runs", "epochs, median (range)", "train accuracy, % (own labels)",
                  "test accuracy, %"], rows, title="Did the nets fit? Accuracy at the last epoch (mean ± 95% CI)")


def _conclusion(report, strict):
    tanh, relu = (strict.get(("sz2017", a), (None,))[0] for a in ("tanh", "relu"))
    if tanh is None or relu is None:
        return
    tanh_c, relu_c = bool([n for n in tanh if n != "output"]), bool([n for n in relu if n != "output"])
    which = {(True, False): "both papers' shared finding for tanh (compression, Shwartz-Ziv & Tishby) "
                            "and Saxe et al.'s for ReLU (no compression)",
             (True, True): "Shwartz-Ziv & Tishby's compression for tanh, but also compression for ReLU, "
                           "which Saxe et al. did not find",
             (False, False): "Saxe et al.'s ReLU result (no compression), but not the tanh compression "
                             "both papers report: no tanh hidden layer compresses apart from both controls "
                             "under every estimator",
             (False, True): "neither: compression for ReLU only"}[(tanh_c, relu_c)]
    report.finding(f"Which result we reproduce on the 12-bit task (hidden layers, counted only where apart from "
                   f"both controls under every estimator; the softmax output, the same in both nets, is left "
                   f"out): {which}.")


def _common(recs, key):
    """`(epochs, values)`: the epochs all runs measured (their common prefix) and the runs' values there."""
    n = min(len(r["epochs"]) for r in recs)
    while n and any(r["epochs"][:n] != recs[0]["epochs"][:n] for r in recs):
        n -= 1
    return np.asarray(recs[0]["epochs"][:n], float), np.asarray([np.asarray(r[key][:n], float) for r in recs])


def _figures(report, config, groups):
    arms = [(t, a) for t in ("sz2017", "mnist") for a in config.activations if groups.get((t, a, "real"))]
    if not arms:
        return
    from matplotlib import cm, colors

    fig, axes = _report.figure(ncols=len(arms), nrows=2, width=3.6, height=3.2)
    fig2, axes2 = _report.figure(ncols=len(arms), width=3.6, height=3.2)
    axes = np.asarray(axes).reshape(2, len(arms))
    for col, (task, activation) in enumerate(arms):
        recs = groups[(task, activation, "real")]
        for row, name in enumerate([_names(recs)[0], "kde"]):
            views = [_view(r, name) for r in recs]
            epochs, xt = _common(views, "I_XT")
            ty = _common(views, "I_TY")[1].mean(0)
            norm = colors.LogNorm(vmin=1, vmax=max(2, epochs[-1]))
            ax = axes[row, col]
            for j in range(xt.shape[2]):
                ax.plot(xt.mean(0)[:, j], ty[:, j], color="0.7", lw=0.6, zorder=1)
                ax.scatter(xt.mean(0)[:, j], ty[:, j], c=cm.viridis(norm(np.maximum(epochs, 1))), s=9, zorder=2)
            ax.set(title=f"{LABELS[task]}, {activation}, {_label(name, config)}",
                   xlabel="I(X;T), bits", ylabel="I(T;Y), bits")
            if row == 0:
                names, ax2 = layer_names(config, task, xt.shape[2]), axes2[col]
                for j in range(xt.shape[2]):
                    half = [stats.mean_ci(xt[:, i, j]).half_width or 0.0 for i in range(len(epochs))]
                    ax2.plot(np.maximum(epochs, 0.7), xt.mean(0)[:, j], label=names[j], color=f"C{j}")
                    ax2.fill_between(np.maximum(epochs, 0.7), xt.mean(0)[:, j] - half, xt.mean(0)[:, j] + half,
                                     color=f"C{j}", alpha=0.2)
                ax2.set(title=f"{LABELS[task]}, {activation}", xlabel="epoch (0 drawn at 0.7)", ylabel="I(X;T), bits",
                        xscale="log")
                ax2.legend(fontsize=6)
    report.save_figure(fig, "plane", "Information plane: the mean over runs of (I(X;T), I(T;Y)) of every layer "
                       "(right to left: fc1 ... output) at every measured epoch, main binning (top) and KDE bound "
                       "(bottom); colour = epoch, log scale (dark: early, yellow: late).")
    report.save_figure(fig2, "ixt", "I(X;T) of every layer against the epoch (main binning), mean and 95% CI band.")
    fig3, axes3 = _report.figure(ncols=len(arms), width=3.6, height=2.8)
    for ax, (task, activation) in zip(axes3, arms, strict=True):
        for labels in ("real", "permuted"):
            recs = groups.get((task, activation, labels), [])
            if recs:
                epochs, acc = _common(recs, "test_accuracy")
                ax.plot(np.maximum(epochs, 0.7), 100 * (1 - acc.mean(0)), label=f"test, {labels} labels")
        ax.set(title=f"{LABELS[task]}, {activation}", xlabel="epoch", ylabel="error, % (mean)", xscale="log")
        ax.legend(fontsize=7)
    report.save_figure(fig3, "curves", "Learning curves: mean test error over runs at the measured epochs (a "
                       "permuted-label net is scored on its own labels on the 12-bit task, on the real test "
                       "labels on MNIST).")


def _text(report, config):
    report.text(
        "**Setup.** (a, b) The task of Shwartz-Ziv & Tishby (2017): all 4,096 12-bit inputs, labels from a "
        "spherically symmetric rule on 12 points on the sphere (the icosahedron's vertices; the rule is in "
        "`experiments/_information_task.py`: it reproduces the original data set's fraction of positive labels "
        "for every number of ones exactly, p(y=1) = 0.517, H(Y) = 0.9992 bits, but it is our rule, not their "
        f"file). Net 12-{'-'.join(map(str, config.hidden))}-2, {' or '.join(config.activations)} hidden units, softmax "
        f"output; each run its own {100 * config.train_fraction:g}% training split, data order and initial "
        f"weights (truncated normal, std 1/sqrt(fan-in)); Adam {config.learning_rate:g}, batch "
        f"{config.batch_size}, {config.epochs:,} epochs (the settings of Saxe et al.'s code); every run trained side by "
        "side with the others in one model (weights with a run axis, loss summed over runs: each run's "
        "gradient and Adam step are its own; the tanh, ReLU and permuted-label runs of one seed share split, "
        "order and initial weights, so they pair); batches run across epoch boundaries. Informations on all "
        "4,096 inputs.\n\n"
        f"**Estimators.** Binning with {', '.join(map(str, config.bins))} equal bins per unit (the first fills the "
        "arm tables) over a range fixed for the whole run, per layer: tanh [-1, 1] (not re-ranged); ReLU, each "
        "hidden layer its own [0, its largest activation at any measured epoch] (rule: no layer's bins are set by "
        "another layer's activations); the softmax output [0, 1]. I(X;T) = H(binned T) (T is a function of X and "
        "every input appears once), ceiling log2(N). And the pairwise-distance upper bound of Kolchinsky & "
        "Tracey (2017) that Saxe et al. (2018, App. B.1, Eqs. 7-10) used: T = h(X) + N(0, σ²I), "
        "I(X;T) <= -1/N Σ_i log 1/N Σ_j exp(-|h_i - h_j|² / 2σ²), I(T;Y) the same minus Σ_c p_c times that "
        f"within class c; σ² = {config.kde_noise_variance:g} (their text's value on this task; the notebook of their "
        "code, artemyk/ibsgd `IBnet_ComputeMI.ipynb`, sets 1e-3), on every probe sample "
        f"(MNIST: the first {config.mnist_kde_probe}).\n\n"
        "**Rule for compression.** 'End of fitting' is, per run, layer and estimator, the first measured epoch "
        f"at which the layer's I(T;Y) reaches {100 * FIT_FRACTION:g}% of its own maximum; Δ = I(X;T) at the last "
        "epoch minus there. Two controls over the same epochs: the random control (Gaussian activations with "
        "each unit's mean and standard deviation, estimated the same way) and the net of the same seed trained "
        "on labels permuted once (it can fit only by memorising, so a fall it shares is not about the labels' "
        "structure). A layer compresses only where Δ, Δ minus the random control's Δ and Δ minus the "
        "permuted-label net's Δ all have paired 95% intervals below 0, under every estimator; otherwise no "
        "compression is distinguishable. Where the random control's I(T;Y) is as high as the estimate, the "
        "estimate says nothing about the layer; I(X;T) at log2(4096) = 12 only says the layer is invertible "
        "on the data.\n\n"
        f"(c) {config.mnist_dataset}: MLP 784-{'-'.join(map(str, config.mnist_hidden))}-10 (the zoo "
        f"`mlp`, Glorot init), Adam {config.mnist_learning_rate:g}, batch {config.mnist_batch_size}, trained on "
        f"the 54k training images to its plateau: stopped after the first epoch at which the validation loss "
        f"fell less than {100 * _report.PLATEAU_TOLERANCE:g}% over the last 5 epochs (`_report.last_fall`), at "
        f"most {config.mnist_epochs} epochs; its permuted-label twin trains on permuted training labels for as "
        "many epochs and is scored on the real test labels. Informations on the test images with "
        f"{config.mnist_bins} bins per unit over the same ranges (30 bins would give nearly every image its own "
        "code, the saturated ceiling; 3 was chosen on a 5-epoch pilot, seed 0, tanh, where 4 bins already gave "
        "fc1 a control I(T;Y) as high as its estimate) and the KDE bound.\n\n"
        "**Literature.** Shwartz-Ziv & Tishby (2017, arXiv:1703.00810), the same 12-10-7-5-4-3-2 tanh "
        "net on 4,096 inputs, each training repeated 50 times (their Sec. 3.5; their code bins each unit "
        "into 30 intervals, batch 256): each layer first gains I(T;Y) and then, for most of the epochs, "
        "loses I(X;T) (compression) [the shape and sizes of their curves are read from their plots and "
        "not quoted]. Saxe et al. (2018, ICLR, 'On the information bottleneck theory of deep learning'), "
        "the same net and binning (30 bins in [-1, 1] for tanh; ReLU: 100 bins between the minimum and "
        "maximum activity), batch 256 (their code: Adam 4e-4, 10^4 epochs), 50 repetitions for their "
        "averaged figures: the tanh net compresses, while 'the mutual information with the input "
        "monotonically increases in all ReLU layers'; with the KDE bound (σ² = 0.1, their Fig. 8) tanh "
        "compresses, less than under binning, and ReLU does not; they attribute compression to saturating "
        f"units meeting the binning, not to SGD noise. Where we differ: {config.seeds} runs instead of 50, ReLU "
        "binned per layer over [0, max] instead of over one [min, max], our own labelling rule, the controls; "
        "the MNIST part is ours.")
