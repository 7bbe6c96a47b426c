"""The receptive-fields report drawn from its results JSON: tables, claims, field and graph plots."""

import base64

import numpy as np
from keras_seminar.experiments import _report, stats

ARMS = ("initial", "free", "l12", "nonneg", "sparse_coding")
LABELS = {"initial": "initial weights (control)", "free": "free", "l12": "L1/2", "nonneg": "non-negative",
          "sparse_coding": "sparse-coding atoms"}
NETS = ("free", "l12", "nonneg")
DISTANCES = ("weight", "response", "wasserstein")
DISTANCE_LABELS = {"weight": "weight space, 1 - cos", "response": "response, 1 - Pearson",
                   "wasserstein": "sliced W1 of |field| maps"}


def encode(fields):
    """Fields `(n, 784)` as n base64 strings of int8 (each field scaled to its own max |w|):
    thumbnails for the plots, 1 kB a field instead of 784 decimals."""
    scale = np.maximum(np.abs(fields).max(axis=1, keepdims=True), 1e-12)
    q = np.round(127 * fields / scale).astype(np.int8)
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in q]


def decode(strings, shape=(28, 28)):
    return np.stack([np.frombuffer(base64.b64decode(s), np.int8).reshape(shape) / 127.0 for s in strings])


def _claim(report, dataset, what, groups, a, b, key, digits=2, scale=1.0, unit=""):
    report.compare(groups.get((dataset, a), []), groups.get((dataset, b), []), key, LABELS[a], LABELS[b],
                   f"{dataset}, {what}: ", digits, scale, unit)


def _below_one(report, dataset, groups, arm, distance):
    recs = groups.get((dataset, arm), [])
    if len(recs) < 2:
        return
    e = stats.mean_ci([r["spread"][distance] for r in recs])
    verdict = ("below 1: graph neighbours sit closer in the image than random pairs" if e.high < 1 else
               "above 1" if e.low > 1 else "1 is inside the interval: no spatial order detected")
    report.finding(f"{dataset}, {LABELS[arm]}: neighbour spread by the {distance} distance "
                   f"{e.format(2)}, {verdict}.")


def _tables(config, report, dataset, groups):
    rows, dist_rows = [], []
    for arm in ARMS:
        recs = groups.get((dataset, arm), [])
        if not recs:
            continue
        net = arm in NETS
        rows.append((LABELS[arm], _report.ci(recs, "test_accuracy", 2, 100) if net else "-",
                     _report.epochs_cell(recs) if net else "-", _report.ci(recs, "fields_alive", 1),
                     _report.ci(recs, "near_zero", 1, 100), _report.ci(recs, "gyration_radius"),
                     _report.ci(recs, "half_energy_radius"),
                     _report.ci(recs, "olshausen_field", 3) if arm != "sparse_coding" else "(itself)"))
        dist_rows.append((LABELS[arm], *[_report.ci(recs, lambda r, k=k: r["agreement"][k])
                                         for k in recs[0]["agreement"]],
                          *[_report.ci(recs, lambda r, k=k: r["spread"][k]) for k in DISTANCES]))
    n_pixels = groups[(dataset, "initial")][0]["masked_pixels"] if (dataset, "initial") in groups else "?"
    report.table(["fields", "test accuracy, %", "best epoch (mean) / most epochs run",
                  f"fields alive (of {config.hidden})", f"near zero (|w| < {config.near_zero:g}), %",
                  "radius of gyration of w^2, px", "half-energy radius, px",
                  "Olshausen-Field likeness (mean best |cos| of an atom)"], rows,
                 title=f"{dataset}: the fields, on the {n_pixels} varying pixels (mean ± 95% CI over seeds)")
    pairs = list(groups.get((dataset, "free"), [{"agreement": {}}])[0]["agreement"])
    report.table(["fields", *[f"Spearman {p.replace('~', ' vs ')}" for p in pairs],
                  *[f"neighbour spread, {k}" for k in DISTANCES]], dist_rows,
                 title=f"{dataset}: agreement of the three distances, and the spatial order of the "
                       f"{config.k_neighbours}-nearest-neighbour graphs")
    sc = groups.get((dataset, "sparse_coding"), [])
    if sc:
        report.table(["dictionary", "relative reconstruction error, % (2,000 validation images)",
                      "active codes, %", "objective, first -> last iteration"],
                     [("learned", _report.ci(sc, "relative_error", 1, 100), _report.ci(sc, "active_fraction", 1, 100),
                       " -> ".join(f"{np.mean([r['objective'][i] for r in sc]):.2f}" for i in (0, -1))),
                      ("start (random training images)", _report.ci(sc, "relative_error_start", 1, 100),
                       _report.ci(sc, "active_fraction_start", 1, 100), "-")],
                     title=f"{dataset}: the sparse-coding dictionary (lambda = {config.sparsity_lambda:g})")


def _findings(report, dataset, groups):
    for arm in ("l12", "nonneg"):
        _claim(report, dataset, "test accuracy", groups, arm, "free", "test_accuracy", 2, 100, " points")
    for a, b in (("free", "initial"), ("l12", "free"), ("nonneg", "free"), ("sparse_coding", "free"),
                 ("l12", "sparse_coding")):
        _claim(report, dataset, "radius of gyration", groups, a, b, "gyration_radius", 2, unit=" px")
    for a, b in (("free", "initial"), ("l12", "free"), ("nonneg", "free")):
        _claim(report, dataset, "Olshausen-Field likeness", groups, a, b, "olshausen_field", 3)
    for arm in ("initial", *NETS, "sparse_coding"):
        _below_one(report, dataset, groups, arm, "response")
    for arm in ("free", "sparse_coding"):
        recs = groups.get((dataset, arm), [])
        if len(recs) > 1:
            report.finding(f"{dataset}, {LABELS[arm]}: agreement of the distances (Spearman over field pairs): "
                           + "; ".join(f"{k.replace('~', ' vs ')} {_report.ci(recs, lambda r, k=k: r['agreement'][k])}"
                                       for k in recs[0]["agreement"]) + ".")
    sc = groups.get((dataset, "sparse_coding"), [])
    if len(sc) > 1:
        report.finding(f"{dataset}, sparse coding: " + stats.claim(
            "learned dictionary's error", [r["relative_error"] for r in sc], "start dictionary's error",
            [r["relative_error_start"] for r in sc], digits=1, scale=100, unit=" points"))


def render(config, results, report):
    groups = _report.group_runs(results, ("dataset", "arm"))
    for dataset in config.datasets:
        _tables(config, report, dataset, groups)
        _findings(report, dataset, groups)
    report.text(_method(config, groups) + _scope(config, results))
    _fields_figure(config, groups, report)
    for dataset in config.datasets:
        _graph_figure(config, groups, report, dataset)
    _summary_figure(config, groups, report)


def _shown(groups, dataset, arm, seed):
    return next((r for r in groups.get((dataset, arm), []) if r["seed"] == seed and r.get("show")), None)


def _fields_figure(config, groups, report):
    arms = [a for a in ARMS if any(_shown(groups, d, a, config.show_seed) for d in config.datasets)]
    per = len(arms) + 1  # the mask, then one panel per arm; 3 panels a row
    rows = -(-per // 3)
    fig, axes = _report.figure(ncols=3, nrows=rows * len(config.datasets), width=4.0, height=4.2)
    for i, dataset in enumerate(config.datasets):
        row = axes[i * rows * 3:(i + 1) * rows * 3]
        init = _shown(groups, dataset, "initial", config.show_seed)
        if init and init.get("pixel_std"):
            std = np.asarray(init["pixel_std"]).reshape(28, 28)
            row[0].imshow(std, cmap="gray")
            row[0].contour(std > config.mask_threshold, levels=[0.5], colors="C1", linewidths=1)
            row[0].set_title(f"{dataset}: pixel std; mask ({init['masked_pixels']} px)", fontsize=9)
        for ax, arm in zip(row[1:], arms):
            rec = _shown(groups, dataset, arm, config.show_seed)
            if rec:
                _report.image_grid(ax, decode(rec["show"]["fields"]), cols=8, title=f"{dataset}: {LABELS[arm]}")
        for ax in row:
            ax.set_axis_off()
    report.save_figure(fig, "fields", f"Seed {config.show_seed}: the pixel mask (orange contour) and every "
                       "live field on the whole 28x28 grid (red +, blue -, each scaled to its own max |w|; "
                       "dead fields left out; only pixels inside the mask are measured).")


def _graph_figure(config, groups, report, dataset):
    from matplotlib.colors import Normalize
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    arms = [a for a in ARMS[1:] if _shown(groups, dataset, a, config.show_seed)]
    if not arms:
        return
    fig, axes = _report.figure(ncols=len(DISTANCES), nrows=len(arms), width=4.4, height=4.0)
    for i, arm in enumerate(arms):
        show = _shown(groups, dataset, arm, config.show_seed)["show"]
        thumbs = decode(show["fields"])
        for ax, k in zip(axes[i * len(DISTANCES):], DISTANCES):
            xy = np.asarray(show["embedding"][k])
            for a, b in show["edges"][k]:
                ax.plot(*xy[[a, b]].T, color="0.6", lw=0.6, zorder=1)
            for p, img in zip(xy, thumbs):
                ax.add_artist(AnnotationBbox(OffsetImage(img, cmap="bwr", norm=Normalize(-1, 1), zoom=0.65),
                                             p, frameon=False, zorder=2))
            span = np.ptp(xy, axis=0).max() or 1.0
            ax.set(xlim=(xy[:, 0].min() - 0.08 * span, xy[:, 0].max() + 0.08 * span),
                   ylim=(xy[:, 1].min() - 0.08 * span, xy[:, 1].max() + 0.08 * span), xticks=[], yticks=[])
            ax.set_title(f"{LABELS[arm]}: {DISTANCE_LABELS[k]}", fontsize=8)
    report.save_figure(fig, f"graph_{dataset}", f"{dataset}, seed {config.show_seed}: every live field at "
                       f"its classical-MDS position for each distance; grey lines join "
                       f"{config.k_neighbours}-nearest neighbours.")


def _summary_figure(config, groups, report):
    panels = (("radius of gyration of w^2, px", lambda r: r["gyration_radius"]),
              ("Olshausen-Field likeness", lambda r: r.get("olshausen_field")),
              ("neighbour spread (response distance)", lambda r: r["spread"]["response"]))
    fig, axes = _report.figure(ncols=len(panels) + 1, width=3.9, height=3.4)
    for j, dataset in enumerate(config.datasets):
        _report.curves(axes[0], [(f"{dataset} {LABELS[arm]}", groups.get((dataset, arm), [])) for arm in NETS],
                       lambda r: r["history"]["val_loss"], ls="-" if j == 0 else "--", lw=0.8, alpha=0.7)
        for ax, (title, get) in zip(axes[1:], panels):
            arms = [a for a in ARMS if groups.get((dataset, a)) and not (a == "sparse_coding" and "likeness" in title)]
            for x, arm in enumerate(arms):
                e = stats.mean_ci([get(r) for r in groups[(dataset, arm)]])
                ax.errorbar(x + 0.15 * j, e.mean, yerr=e.half_width or 0, fmt="os"[j % 2], color=f"C{j}",
                            capsize=3, label=dataset if x == 0 else None)
            ax.set_xticks(range(len(arms)), [LABELS[a].split(" (")[0] for a in arms], rotation=30, fontsize=7)
            ax.set_title(title, fontsize=9)
    axes[-1].axhline(1.0, color="0.5", ls=":", lw=1)
    axes[0].set(title="validation loss (every run)", xlabel="epoch", yscale="log")
    _report.legends(axes, fontsize=6)
    report.save_figure(fig, "summary", "Convergence (validation loss of every run, early stopping; "
                       "for L1/2 it includes the penalty) and the headline measures, mean ± 95% CI over seeds.")


def _method(config, groups):
    masked = sorted({r["masked_pixels"] for recs in groups.values() for r in recs})
    capped = [f"{LABELS[arm]} {sum(r['epochs_run'] >= config.max_epochs for r in recs)} of {len(recs)}"
              for (_, arm), recs in groups.items() if arm in NETS]
    falls = [f for (_, arm), recs in groups.items() if arm in NETS for r in recs
             if r["epochs_run"] >= config.max_epochs and (f := _report.last_fall(r["history"]["val_loss"])) is not None]
    plateau = ("" if not falls else
               f"; their validation loss fell by at most {100 * max(falls):.1f}% over their last 5 epochs, "
               + ("on the plateau" if max(falls) < _report.PLATEAU_TOLERANCE else "not converged")
               + f" by the < {100 * _report.PLATEAU_TOLERANCE:g}% criterion of the sparsity report")
    control = [r["spread"]["wasserstein"] for (_, arm), recs in groups.items() if arm == "initial" for r in recs]
    train = f"{config.train_limit:,} of the 54k" if config.train_limit else "all 54k"
    test = f"{config.test_limit:,}" if config.test_limit else "all 10k"
    return (
        f"**Nets.** The zoo `mlp` 784-{config.hidden}-10 ReLU, one per arm and seed: free; L1/2 "
        f"(`keras_seminar.regularizers.L12({config.l12:g})` on every kernel); non-negative "
        "(`kernel_constraint=\"nonneg\"` on every kernel, projected after each step). Adam at "
        f"{config.learning_rate:g}, batch 128, early stopping when the validation loss has not improved for "
        f"{config.patience} epochs (at most {config.max_epochs}; the best epoch's weights kept; runs that reached "
        f"the cap, their validation loss still reaching new lows: {', '.join(capped)}{plateau}), {train} training "
        f"images of each seed's 54k/6k split, tested on {test} test images. The control is each seed's untrained "
        "initial weights (Glorot uniform; the same draw for every arm of a seed).\n\n"
        "**Mask.** Only pixels whose standard deviation over the seed's training images exceeds "
        f"{config.mask_threshold:g} (pixel values in [0, 1]) are measured: "
        f"{masked[0]}{'' if len(masked) == 1 else f' to {masked[-1]}'} of 784 pixels (over data sets and seeds). "
        "Every measure below uses these pixels only.\n\n"
        "**Measures per field** (then averaged over a net's live fields, then mean ± 95% CI over seeds; a field is "
        "dead, and left out of the shape measures, when its norm is below 1% of the net's largest): near-zero "
        f"fraction (|w| < {config.near_zero:g}, all fields); radius of gyration of the energy w^2 over the pixel "
        "coordinates, sqrt(sum e_p |r_p - c|^2) with e normalized and c its centroid; and the radius of the smallest "
        "disc around c holding half the energy. Uniform noise over the mask gives about 9 px for both (the "
        "initial-weights row).\n\n"
        "**Distances between two fields of one net**: weight space, 1 - cos of the masked fields; response, 1 - "
        f"Pearson correlation of the two units' pre-activations w.x over {config.response_images:,} training images "
        "(data-dependent: two fields that differ only where the data never vary are close); and the sliced "
        "Wasserstein-1 distance between the |field| maps normalized to sum 1, in pixels: the exact 1-D W1 along each "
        f"of {config.projections} evenly spaced directions, averaged (a lower bound of the 2-D W1; a map shifted by "
        "v is about 2|v|/pi away). Agreement: Spearman correlation of the pairwise distances of two kinds, per "
        "net.\n\n"
        f"**Neighbourhood graph ('topology')**: each field joined to its {config.k_neighbours} nearest by a "
        "distance, drawn at its classical-MDS position for that distance. Neighbour spread: mean image distance "
        "between the energy centroids of joined fields divided by that of all pairs; below 1 means fields that are "
        "close by the distance also sit close in the image, the order a Kohonen map builds in by design. The W1 "
        "distance is mostly the distance between where two fields' mass sits, so its graph is spatially ordered by "
        f"construction: the random initial weights already give {np.mean(control) if control else float('nan'):.2f}; "
        "read it against that control, not against 1. An MLP has no map of units, so any such order has to come from "
        "the data.\n\n"
        f"**Sparse coding reference** (Olshausen & Field 1996): {config.atoms} atoms learned on "
        f"{config.dictionary_images:,} training images of the same seed (masked, the mean training image removed, "
        f"not whitened), minimizing 1/2 |x - a D|^2 + lambda |a|_1 with lambda = {config.sparsity_lambda:g}: "
        f"{config.dictionary_iterations} alternations of FISTA codes ({config.code_steps} warm-started steps) and "
        "one block-coordinate sweep of the atoms under |d_j| <= 1 (Mairal et al. 2010), starting from random "
        "training images; NumPy. The same measures are taken on its atoms. Olshausen-Field likeness of a net: the "
        "mean over the atoms of the best |cos| with any of the net's live fields (1: every atom is one of the "
        "fields; no ceiling is measured, e.g. two dictionaries of different seeds, so read it between the "
        "initial-weights control and 1).\n\n"
        "**Literature.** Olshausen & Field (1996, Nature 381:607-609, 'Emergence of simple-cell receptive field "
        "properties by learning a sparse code for natural images') learned 192 basis functions on 16x16-pixel "
        "patches of ten whitened (zero-phase whitening/low-pass filtered) 512x512 natural images (their Fig. 4) and "
        "found localized, oriented, bandpass functions like V1 simple-cell receptive fields. Here the images are "
        "whole 28x28 digits (or clothes), not natural-scene patches, not whitened, and 64 atoms for ~500 pixels (an "
        "undercomplete code): on MNIST the atoms come out as whole-digit templates and thick stroke pieces (the "
        "fields figure), not small oriented edges. So 'Olshausen-Field-like' here means 'like the sparse code of "
        "these images', not 'like V1 simple cells'; whether a net's fields are more localized or more atom-like than "
        "the free net's is in the findings above, with its interval.")


def _scope(config, results):
    if "fashion_mnist" in config.datasets or not results.get("wall_seconds"):
        return ""
    n = max(len(results["seeds"]), 1)
    return (f"\n\n**Scope.** MNIST only: this run took {results['wall_seconds']:.0f} s "
            f"({results['wall_seconds'] / n:.0f} s a seed for the three nets, the dictionary and the "
            "measures) on the 2-core CPU it shared with another experiment, so adding Fashion-MNIST "
            "would have taken the report past its ~20-minute budget; "
            "`--set datasets=mnist,fashion_mnist` runs both.")
