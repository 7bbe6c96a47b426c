"""The information-plane report drawn from its results JSON: tables with the random control
beside every estimate, claims from paired 95% intervals, and the information-plane figures."""

import numpy as np
from keras_seminar.experiments import _report, stats

LABELS = {"sz2017": "12-bit task", "mnist": "MNIST"}
FIT_FRACTION = 0.95  # a layer has fitted when its I(T;Y) first reaches 95% of its own maximum


def _fit_index(ity):
    """Per layer: the first measured epoch index where I(T;Y) reaches FIT_FRACTION of its maximum."""
    ity = np.asarray(ity)
    return [int(np.argmax(ity[:, j] >= FIT_FRACTION * ity[:, j].max() - 1e-12)) for j in range(ity.shape[1])]


def summaries(recs):
    """Per-run arrays of one arm: I(X;T) / I(T;Y) at epoch 0, at the end of fitting and last,
    the end-of-fitting epoch, and the last epoch's controls; each (runs, layers)."""
    out = {k: [] for k in ("xt0", "xt_fit", "xt_last", "xt_max", "ty0", "ty_last", "fit_epoch",
                           "c_xt", "c_ty_real", "c_ty")}
    for r in recs:
        xt, ty, fit = np.asarray(r["I_XT"]), np.asarray(r["I_TY"]), _fit_index(r["I_TY"])
        out["xt0"].append(xt[0])
        out["xt_fit"].append([xt[i, j] for j, i in enumerate(fit)])
        out["xt_last"].append(xt[-1])
        out["xt_max"].append(xt.max(0))
        out["ty0"].append(ty[0])
        out["ty_last"].append(ty[-1])
        out["fit_epoch"].append([r["epochs"][i] for i in fit])
        out["c_xt"].append(r["control_I_XT"][-1])
        out["c_ty_real"].append(r["control_real_I_TY"][-1])
        out["c_ty"].append(r["control_I_TY"][-1])
    return {k: np.asarray(v, float) for k, v in out.items()}


def _ci(values, digits=2):
    """`mean ± half-width` (the tables' titles give n); the mean alone for one run."""
    est = stats.mean_ci(values)
    mean = f"{round(est.mean, digits) + 0.0:.{digits}f}"  # + 0.0: no "-0.00"
    return f"{mean} ± {est.half_width:.{digits}f}" if est.has_ci else mean


def layer_names(config, task, n_layers):
    hidden = config.hidden if task == "sz2017" else config.mnist_hidden
    return [f"fc{i + 1} ({w})" for i, w in enumerate(hidden)][:n_layers - 1] + ["output"]


def _arm_table(report, config, task, activation, recs):
    s, names = summaries(recs), layer_names(config, task, len(recs[0]["I_XT"][0]))
    rows, diffs = [], []
    for j, name in enumerate(names):
        d = stats.paired_difference(s["xt_last"][:, j], s["xt_fit"][:, j])
        diffs.append(d)
        rows.append((name, _ci(s["xt0"][:, j]), f"{_ci(s['xt_fit'][:, j])} (epoch {np.median(s['fit_epoch'][:, j]):g})",
                     _ci(s["xt_last"][:, j]), _ci(s["xt_last"][:, j] - s["xt_fit"][:, j]), f"{_ci(s['ty0'][:, j], 3)} -> {_ci(s['ty_last'][:, j], 3)}",
                     f"{_ci(s['c_xt'][:, j])} / {_ci(s['c_ty_real'][:, j], 3)} / {_ci(s['c_ty'][:, j], 3)}"))
    n, last = len(recs), recs[0]["epochs"][-1]
    report.table(["layer", "I(X;T) epoch 0", "I(X;T) end of fitting (median epoch)", f"I(X;T) epoch {last}",
                  "last - end of fitting (paired)", f"I(T;Y) epoch 0 -> {last}",
                  f"random control, epoch {last}: I(X;T) / I(T;Y) real labels / I(T;Y) permuted labels"],
                 rows, title=f"{LABELS[task]}, {activation}: bits, mean ± 95% CI over {n} runs")
    return names, diffs


def _verdict(names, diffs):
    down = [n for n, d in zip(names, diffs, strict=True) if d.has_ci and d.high < 0]
    up = [n for n, d in zip(names, diffs, strict=True) if d.has_ci and d.low > 0]
    return down, up


def render(config, results, report):
    groups = _report.group_runs(results, ("task", "activation"))
    verdicts = {}
    for task in ("sz2017", "mnist"):
        for activation in config.activations:
            recs = groups.get((task, activation), [])
            if not recs:
                continue
            names, diffs = _arm_table(report, config, task, activation, recs)
            down, up = _verdict(names, diffs)
            verdicts[(task, activation)] = ([n for n in down if n != "output"], [n for n in up if n != "output"])
            nothing = [n for n in names if n not in down + up]
            s, j = summaries(recs), len(names) - 2  # the last hidden layer
            report.finding(f"{LABELS[task]}, {activation}, fitting, {names[j]}: "
                           + stats.claim(f"I(T;Y) at epoch {recs[0]['epochs'][-1]}", s["ty_last"][:, j],
                                         "at epoch 0", s["ty0"][:, j], digits=3, unit=" bits"))
            report.finding(
                f"{LABELS[task]}, {activation} (n={len(recs)}): I(X;T) at the last epoch vs at the end of "
                f"fitting: lower (compression) in {', '.join(down) or 'no layer'}; higher in "
                f"{', '.join(up) or 'no layer'}; no difference detected in {', '.join(nothing) or 'no layer'} "
                "(paired 95% CIs in the tables).")
            _control_finding(report, task, activation, names, recs)
    _compare(report, config, groups)
    _mnist_controls(report, config, groups)
    _accuracy_table(report, config, groups)
    _conclusion(report, verdicts)
    _figures(report, config, groups)
    _text(report, config)


def _compare(report, config, groups):
    """tanh vs ReLU, paired by seed: the change of I(X;T) from the end of fitting to the last epoch."""
    if len(config.activations) < 2:
        return
    a, b = config.activations[:2]
    for task in ("sz2017", "mnist"):
        ra, rb = groups.get((task, a), []), groups.get((task, b), [])
        common = sorted({r["seed"] for r in ra} & {r["seed"] for r in rb})
        if len(common) < 2:
            continue
        sa = summaries([r for r in ra if r["seed"] in common])
        sb = summaries([r for r in rb if r["seed"] in common])
        da, db = sa["xt_last"] - sa["xt_fit"], sb["xt_last"] - sb["xt_fit"]
        names = layer_names(config, task, da.shape[1])
        j = len(names) - 2  # the last hidden layer
        report.finding(f"{LABELS[task]}, last hidden layer {names[j]}, change of I(X;T) after fitting: "
                       + stats.claim(a, da[:, j], b, db[:, j], digits=2, unit=" bits"))


def _mnist_controls(report, config, groups):
    rows = []
    for activation in config.activations:
        recs = groups.get(("mnist", activation), [])
        if not recs:
            continue
        names = layer_names(config, "mnist", len(recs[0]["I_XT"][0]))
        epochs = recs[0]["epochs"]
        for i in sorted({0, min(1, len(epochs) - 1), len(epochs) // 2, len(epochs) - 1}):
            for j, name in enumerate(names):
                est = {key: _ci([r[key][i][j] for r in recs], 2 if "XT" in key else 3)
                       for key in ("I_XT", "control_I_XT", "I_TY", "control_real_I_TY", "control_I_TY")}
                rows.append((activation, epochs[i], name, est["I_XT"], est["control_I_XT"], est["I_TY"],
                             est["control_real_I_TY"], est["control_I_TY"]))
    if rows:
        probe = next(recs[0]["probe"] for (t, _), recs in groups.items() if t == "mnist")
        report.table(["activation", "epoch", "layer", "I(X;T)", "control I(X;T)", "I(T;Y)",
                      "control I(T;Y), real labels", "control I(T;Y), permuted labels"], rows,
                     title=f"MNIST: every estimate beside its random-activations control (bits; ceiling "
                           f"log2({probe}) = {np.log2(probe):.2f}, H(Y) <= {np.log2(10):.2f})")


def _control_finding(report, task, activation, names, recs):
    """Where the last epoch's estimates differ from their controls (paired by run), and how close
    I(X;T) comes to its ceiling log2(N)."""
    last = lambda key, j: [r[key][-1][j] for r in recs]  # noqa: E731
    below = [n for j, n in enumerate(names)
             if (d := stats.paired_difference(last("I_XT", j), last("control_I_XT", j))).has_ci and d.high < 0]
    above = [n for j, n in enumerate(names)
             if (d := stats.paired_difference(last("I_TY", j), last("control_real_I_TY", j))).has_ci and d.low > 0]
    probe = recs[0].get("probe", 4096)
    ceiling = np.log2(probe)
    top = max(np.mean(last("I_XT", j)) for j in range(len(names)))
    report.finding(
        f"{LABELS[task]}, {activation} (n={len(recs)}), last epoch, estimate vs random control: I(X;T) below "
        f"the control's in {', '.join(below) or 'no layer'}; I(T;Y) above the control's (real labels) in "
        f"{', '.join(above) or 'no layer'} (paired 95% CIs; elsewhere the estimate is not told apart from "
        f"random activations); the largest mean I(X;T) is {top:.2f} bits, {ceiling - top:.2f} below the "
        f"ceiling log2({probe}) = {ceiling:.2f}.")


def _accuracy_table(report, config, groups):
    rows = []
    for (task, activation), recs in groups.items():
        train = [r["train_accuracy"][-1] if task == "sz2017" else r["train_accuracy_per_epoch"][-1] for r in recs]
        rows.append((LABELS[task], activation, len(recs), recs[0]["epochs"][-1], stats.mean_ci(train).format(2, 100),
                     stats.mean_ci([r["test_accuracy"][-1] for r in recs]).format(2, 100)))
    report.table(["task", "activation", "runs", "epochs", "train accuracy, %", "test accuracy, %"], rows,
                 title="Did the nets fit? Accuracy at the last epoch (mean ± 95% CI)")


def _conclusion(report, verdicts):
    tanh, relu = verdicts.get(("sz2017", "tanh")), verdicts.get(("sz2017", "relu"))
    if not (tanh and relu):
        return
    tanh_c, relu_c = bool(tanh[0]), bool(relu[0])
    which = {(True, False): "both papers' shared finding for tanh (compression, Shwartz-Ziv & Tishby) "
                            "and Saxe et al.'s for ReLU (no compression)",
             (True, True): "Shwartz-Ziv & Tishby's compression for tanh, but also compression for ReLU, "
                           "which Saxe et al. did not find",
             (False, False): "Saxe et al.'s ReLU result (no compression), but not the tanh compression "
                             "both papers report",
             (False, True): "neither: compression for ReLU only"}[(tanh_c, relu_c)]
    report.finding(f"Which result we reproduce on the 12-bit task (hidden layers; the softmax output, the same "
                   f"in both nets, is left out of this verdict): {which}.")


def _mean(recs, key):
    return np.mean([np.asarray(r[key], float) for r in recs], axis=0)


def _figures(report, config, groups):
    arms = [(t, a) for t in ("sz2017", "mnist") for a in config.activations if groups.get((t, a))]
    if not arms:
        return
    from matplotlib import cm, colors

    fig, axes = _report.figure(ncols=len(arms), width=3.6, height=3.2)
    fig2, axes2 = _report.figure(ncols=len(arms), width=3.6, height=3.2)
    for ax, ax2, (task, activation) in zip(axes, axes2, arms, strict=True):
        recs = groups[(task, activation)]
        epochs = np.asarray(recs[0]["epochs"], float)
        xt, ty = _mean(recs, "I_XT"), _mean(recs, "I_TY")
        norm = colors.LogNorm(vmin=1, vmax=max(2, epochs[-1]))
        names = layer_names(config, task, xt.shape[1])
        for j in range(xt.shape[1]):
            ax.plot(xt[:, j], ty[:, j], color="0.7", lw=0.6, zorder=1)
            ax.scatter(xt[:, j], ty[:, j], c=cm.viridis(norm(np.maximum(epochs, 1))), s=9, zorder=2)
            per_run = np.asarray([np.asarray(r["I_XT"])[:, j] for r in recs])
            half = [stats.mean_ci(per_run[:, i]).half_width or 0.0 for i in range(len(epochs))]
            ax2.plot(np.maximum(epochs, 0.7), xt[:, j], label=names[j], color=f"C{j}")
            ax2.fill_between(np.maximum(epochs, 0.7), xt[:, j] - half, xt[:, j] + half, color=f"C{j}", alpha=0.2)
        ax.set(title=f"{LABELS[task]}, {activation} (n={len(recs)})", xlabel="I(X;T), bits", ylabel="I(T;Y), bits")
        ax2.set(title=f"{LABELS[task]}, {activation}", xlabel="epoch (0 drawn at 0.7)", ylabel="I(X;T), bits",
                xscale="log")
        ax2.legend(fontsize=6)
    report.save_figure(fig, "plane", "Information plane: the mean over runs of (I(X;T), I(T;Y)) of every layer "
                       "(right to left: fc1 ... output) at every measured epoch; colour = epoch, log scale "
                       "(dark: early, yellow: late).")
    report.save_figure(fig2, "ixt", "I(X;T) of every layer against the epoch, mean and 95% CI band over runs.")
    fig3, axes3 = _report.figure(ncols=len(arms), width=3.6, height=2.8)
    for ax, (task, activation) in zip(axes3, arms, strict=True):
        recs = groups[(task, activation)]
        epochs = np.maximum(np.asarray(recs[0]["epochs"], float), 0.7)
        if task == "sz2017":
            ax.plot(epochs, 100 * (1 - _mean(recs, "train_accuracy")), label="train")
        ax.plot(epochs, 100 * (1 - _mean(recs, "test_accuracy")), label="test")
        ax.set(title=f"{LABELS[task]}, {activation}", xlabel="epoch", ylabel="error, % (mean)", xscale="log",
               yscale="log")
        ax.legend(fontsize=7)
    report.save_figure(fig3, "curves", "Learning curves: mean error over runs at the measured epochs.")


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
        "gradient and Adam step are its own; a tanh and a ReLU run of one seed share split, order and "
        "initial weights, so they pair); batches run across epoch boundaries. I(X;T) and I(T;Y) "
        f"on all 4,096 inputs, {config.bins} equal bins per unit over a range fixed for the whole run: "
        "tanh [-1, 1] for every hidden layer and epoch (not re-ranged), ReLU [0, the run's largest hidden "
        "activation at any measured epoch, one range for all its hidden layers, as tanh's], the softmax "
        "output [0, 1]. I(X;T) = H(binned T), since T is a "
        "function of X and every input appears once; its ceiling is log2(4096) = 12 bits.\n\n"
        "'End of fitting' is, per run and layer, the first measured epoch at which the layer's I(T;Y) "
        f"reaches {100 * FIT_FRACTION:g}% of its own maximum; compression is I(X;T) at the last epoch "
        "below I(X;T) at that epoch, read from the paired 95% interval of the difference (it can come out "
        "either sign, unlike 'last minus maximum'). The random control: Gaussian activations with each "
        "unit's mean and standard deviation, binned the same way, with the real labels and with permuted "
        "labels. Where the control's I(T;Y) is as high as the estimate (tanh fc1-fc3: nearly one code per "
        "input), the binned I(T;Y) says nothing about the layer; I(X;T) at log2(4096) = 12 only says the "
        "layer is invertible on the data. ReLU's range is set by the run's largest activation, reached late "
        "and in one layer, so early epochs and small layers sit in the lowest bins: part of ReLU's rising "
        "I(X;T) is that range, as Saxe et al. discuss; with few bins (MNIST) it can put a whole layer in one "
        "bin (I(X;T) = 0).\n\n"
        f"(c) {config.mnist_dataset}: MLP 784-{'-'.join(map(str, config.mnist_hidden))}-10 (the zoo "
        f"`mlp`, Glorot init), Adam {config.mnist_learning_rate:g}, batch {config.mnist_batch_size}, "
        f"{config.mnist_epochs} epochs on the 54k training images; informations on the test images "
        f"with {config.mnist_bins} bins per unit over the same fixed ranges (30 bins would give nearly "
        "every image its own code in these layers, the saturated ceiling; 3 was chosen on a 5-epoch pilot, "
        "seed 0, tanh, where 4 bins already gave fc1 a control I(T;Y) as high as its estimate).\n\n"
        "**Literature.** Shwartz-Ziv & Tishby (2017, arXiv:1703.00810), the same 12-10-7-5-4-3-2 tanh "
        "net on 4,096 inputs, each training repeated 50 times (their Sec. 3.5; their code bins each unit "
        "into 30 intervals, batch 256): each layer first gains I(T;Y) and then, for most of the epochs, "
        "loses I(X;T) (compression) [the shape and sizes of their curves are read from their plots and "
        "not quoted]. Saxe et al. (2018, ICLR, 'On the information bottleneck theory of deep learning'), "
        "the same net and binning (30 bins in [-1, 1] for tanh; ReLU: 100 bins between the minimum and "
        "maximum activity), batch 256 (their code: Adam 4e-4, 10^4 epochs), 50 repetitions for their "
        "averaged figures: the tanh net compresses, while 'the mutual information with the input "
        "monotonically increases in all ReLU layers'; they attribute compression to saturating units "
        "meeting the binning, not to SGD noise. Where we differ: "
        f"{config.seeds} runs instead of 50, ReLU binned with {config.bins} bins over [0, max] instead "
        "of 100, our own labelling rule; the MNIST part is ours.")
