"""The Markdown report of an experiment, written from its results JSON, and its PNG figures.

`Report` collects tables, findings, free text and figures; `write(results)` adds the evidence
(command, device, backend and versions, seeds, scale, wall time, overrides, resolved config),
all read from the results JSON, so `keras-seminar experiment NAME --render` rebuilds the same
Markdown and PNGs without training.
"""

import json
import os

import numpy as np
from keras_seminar.experiments import stats

from keras_seminar import _io
from keras_seminar.callbacks import plots

DPI = 80
CI_TITLE = "Mean ± 95% CI over seeds (Student t, sample std)"
PAIRED_TITLE = "Paired differences (same seed: same split, data order and initial weights)"


def group_runs(results, keys, order=None, **where):
    """`{(arm[k] for k in keys): [records, by seed]}` of the runs whose arm matches `where` (an
    arm without a key has None there); `keys` one key (a string): `{arm[keys]: [records]}`. With
    `order` (one sequence per key, e.g. the config's lists; for one key, its sequence), groups
    sorted by the position of each key's value there, whatever order the runs finished in."""
    single = isinstance(keys, str)
    if single:
        keys, order = (keys,), None if order is None else (order,)
    groups = {}
    for r in sorted(results["runs"], key=lambda r: r["seed"]):
        if all(r["arm"].get(k) == v for k, v in where.items()):
            groups.setdefault(tuple(r["arm"].get(k) for k in keys), []).append(r)
    if order is not None:
        groups = dict(sorted(groups.items(), key=lambda item: [list(o).index(v) for o, v in zip(order, item[0])]))
    return {k[0]: recs for k, recs in groups.items()} if single else groups


def _get(record, value):
    return value(record) if callable(value) else record[value]


def values(recs, value):
    """`value` of each record: a record key, or a function of a record."""
    return [_get(r, value) for r in recs]


def ci(recs, value, digits=2, scale=1.0):
    """`values(recs, value)`'s mean ± 95% CI as table text, `0.98 ± 0.01 (n=5)` (`scale=100`: %)."""
    return stats.mean_ci(values(recs, value)).format(digits, scale)


def epochs_cell(recs):
    """Early-stopped runs' "best epoch (mean) / most epochs run" table text."""
    return f"{np.mean([r['best_epoch'] for r in recs]):.1f} / {max(r['epochs_run'] for r in recs)}"


PLATEAU_TOLERANCE = 0.03  # a run at its epoch cap is "on the plateau" if its loss fell less than this


def sweep_rows(results, keys, main, settings, cells):
    """A sweep's table rows (`Experiment.sweep_plan`): per sweep run, in order, its `keys`, `cells(record)`
    and "**used**" where the main runs of its key (`main`, grouped by `keys`) hold its `settings`."""
    rows = []
    for record in (r for r in results["runs"] if r["arm"].get("phase") == "sweep"):
        key = tuple(record["arm"][k] for k in keys)
        used = bool(main.get(key)) and all(main[key][0][s] == record["arm"][s] for s in settings)
        rows.append((*key, *cells(record), "**used**" if used else ""))
    return rows


def last_fall(losses, last=5):
    """How much (relative) a loss curve still fell over its `last` epochs; None if too short."""
    if len(losses) <= last:
        return None
    return max(0.0, 1.0 - min(losses[-last:]) / losses[-last - 1])


def cap_text(groups, max_epochs, losses, what, consequence, last=5):
    """A paragraph on the runs of `groups` (`{key tuple: records}`) that reached the `max_epochs`
    cap, each group with how much `losses(record)` (its per-epoch losses; None entries skipped)
    still fell over the last `last` epochs (`last_fall`), and what a fall off the plateau means
    (`consequence`); or that no run reached the cap."""
    parts = []
    for key, recs in groups.items():
        capped = [r for r in recs if r["epochs_run"] >= max_epochs]
        falls = [f for f in (last_fall([v for v in losses(r) if v is not None], last) for r in capped)
                 if f is not None]
        if falls:
            parts.append(f"{'/'.join(key)} {len(capped)} of {len(recs)} (fell {100 * min(falls):.1f}-"
                         f"{100 * max(falls):.1f}%)")
    if not parts:
        return f"No run reached the {max_epochs}-epoch cap: every one stopped early.\n\n"
    return (f"Runs at the {max_epochs}-epoch cap, with how much their {what} still fell over the last "
            f"{last} epochs: " + ", ".join(parts) + f". A fall of {100 * PLATEAU_TOLERANCE:g}% or more is "
            f"not the plateau by this package's rule: {consequence}.\n\n")


def off_plateau(series):
    """`(texts, n)`: "label seed S (F%)" for each run of `series` (`(label, records)` pairs, a
    record's `history["val_loss"]` per epoch) whose loss still fell `PLATEAU_TOLERANCE` or more
    over its last 5 epochs (`last_fall`; "too few epochs" for a shorter run), and the number of runs."""
    runs = [(label, r, last_fall(r["history"]["val_loss"])) for label, recs in series for r in recs]
    return [f"{label} seed {r['seed']} ({'too few epochs' if f is None else f'{100 * f:.1f}%'})"
            for label, r, f in runs if f is None or f >= PLATEAU_TOLERANCE], len(runs)


def figure(ncols, nrows=1, width=4.2, height=3.2):
    """`plots.figure` at the reports' resolution (`DPI`)."""
    return plots.figure(ncols, nrows, width, height, dpi=DPI)


def legends(axes, fontsize=7):
    """A legend on each of `axes` that has labelled artists (matplotlib warns on empty ones)."""
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=fontsize)


def image_grid(ax, images, cols=8, title=None):
    """Draws images (N, H, W) as one grid, each scaled symmetrically around 0 (red +, blue -)."""
    n, h, w = images.shape
    rows = -(-n // cols)
    grid = np.full((rows * (h + 1), cols * (w + 1)), np.nan)
    for i, img in enumerate(images):
        scale = np.abs(img).max() or 1.0
        r, c = divmod(i, cols)
        grid[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = img / scale
    ax.imshow(grid, cmap="bwr", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)


def _cell(value):
    return str(value).replace("|", "\\|")  # a literal | (e.g. "|w|") would split the column


class Report:
    """A Markdown report: question, findings, tables, figures and evidence."""

    def __init__(self, name, out):
        self.name, self.out = name, str(out)
        self.sections, self.findings, self.images = [], [], []
        os.makedirs(self.out, exist_ok=True)

    def table(self, header, rows, title=None):
        lines = [f"### {title}", ""] if title else []
        lines += ["| " + " | ".join(_cell(c) for c in header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
        self.sections.append("\n".join(lines))

    def text(self, text):
        self.sections.append(text)

    def finding(self, text):
        self.findings.append(text)

    def image(self, filename, caption=""):
        self.images.append((filename, caption))

    def compare(self, recs, base, value, name, base_name, what="", digits=2, scale=100, unit=" points"):
        """Compares two arms' `value` (a key or function of a record) on the seeds both have
        (`paired`): adds the finding `what` + `stats.claim(...)` and returns their paired
        difference as table text (`mean ± CI (n)`), or None where they share no seed. The
        defaults suit fractions (accuracies, errors) told in percentage points."""
        a, b = paired(recs, base, value)
        if not a:
            return None
        self.finding(what + stats.claim(name, a, base_name, b, digits=digits, scale=scale, unit=unit))
        return stats.paired_difference(a, b).format(digits, scale)

    def against(self, groups, control, measures, what):
        """`compare` of every group against its control: `groups` are keyed by tuples ending in the arm;
        per arm other than `control` (whose group of the same other keys exists) and `(label, value)` of
        `measures`, the row `(*other keys, "ARM - CONTROL", label, cell)`; `what(key, label)` starts the
        finding. Cells `compare` leaves empty are left out."""
        rows = []
        for key, recs in groups.items():
            base = groups.get((*key[:-1], control))
            if key[-1] == control or not base:
                continue
            for label, value in measures:
                cell = self.compare(recs, base, value, key[-1], control, what=what(key, label))
                if cell:
                    rows.append((*key[:-1], f"{key[-1]} - {control}", label, cell))
        return rows

    def equivalent(self, recs, base, value, name, base_name, margin, what="", digits=2, scale=100, unit=" points"):
        """`compare` with a TOST margin (`stats.equivalence`): adds the finding `what` +
        `stats.equivalence_claim(...)` and returns the table cells `(paired difference,
        "yes" or "no": equivalent within ±margin)`, or None where the arms share no seed."""
        a, b = paired(recs, base, value)
        if not a:
            return None
        words = dict(digits=digits, scale=scale, unit=unit)
        self.finding(what + stats.equivalence_claim(name, a, base_name, b, margin, **words))
        return (stats.paired_difference(a, b).format(digits, scale),
                "yes" if stats.equivalence(a, b, margin).equivalent else "no")

    def save_figure(self, fig, suffix, caption=""):
        path = os.path.join(self.out, f"{self.name}_{suffix}.png")
        fig.tight_layout()
        with _io.atomic_path(path, ".png") as tmp:
            fig.savefig(tmp, dpi=DPI)
        self.image(os.path.basename(path), caption)
        return path

    def write(self, results):
        """Writes `<out>/<name>.md` from the collected parts and the evidence in `results`."""
        env = results.get("environment", {})
        lines = [f"# {results['title']}", "", f"**Question.** {results['question']}", "",
                 "## Findings", ""]
        if results.get("incomplete"):
            lines += [f"- **Incomplete**: drawn from the {len(results.get('runs', []))} runs finished so far "
                      "(`--render` of a run in progress or stopped); counts n below are per arm."]
        lines += [f"- {f}" for f in self.findings + _order_caveat(results)] + ["", "## Results", ""]
        for section in self.sections:
            lines += [section, ""]
        for image, caption in self.images:
            lines += [f"![{caption or image}]({image})", ""] + ([f"*{caption}*", ""] if caption else [])
        seeds = list(results.get("seeds", []))
        overrides = results.get("overrides") or {}
        lines += ["## Evidence", "",
                  f"- command: `{results.get('command', '')}`",
                  f"- re-render without training: `keras-seminar experiment {self.name} --render "
                  f"--out {self.out}` (reads `{self.name}{'.partial' if results.get('incomplete') else ''}.json`)",
                  f"- device: {results.get('device', '')}",
                  f"- backend: {env.get('backend')}; keras {env.get('keras')}, numpy {env.get('numpy')}, "
                  f"{env.get('backend')} {env.get('backend_version')}, python {env.get('python')}",
                  f"- seeds: {seeds} ({len(seeds)} run(s) per setting; a seed sets the train/validation "
                  "split, the data order and the initial weights)",
                  f"- scale: {results.get('scale')}",
                  f"- overrides: {json.dumps(overrides) if overrides else 'none'}",
                  f"- started: {results.get('started', '')}; wall time: "
                  + (f"{results['wall_seconds']:.0f} s" if results.get("wall_seconds") else "unfinished")
                  + _resumed(results.get("resumed")),
                  "", "Resolved config:", "", "```json",
                  json.dumps(results.get("config", {}), indent=1), "```", ""]
        path = os.path.join(self.out, f"{self.name}.md")
        _io.atomic_write(path, "\n".join(lines))
        return path


def _resumed(resumed):
    """The Evidence clause of a run that resumed earlier runs from its partial file."""
    if not resumed:
        return ""
    return (f" (this invocation only: it resumed {resumed['runs']} earlier runs from the partial "
            f"file, the first begun {resumed['first_started']})")


# Experiments that order their training data themselves (not through Keras's shuffle).
OWN_EPOCH_ORDER = ("information_plane",)
DEPTH_RERUN = "reports/depth_reproduction_fixed_order/depth_reproduction.md"  # what the fixed order cost


def _order_caveat(results):
    """The finding a TensorFlow report trained before every fit reshuffled each epoch must carry."""
    env = results.get("environment", {})
    if (env.get("backend") != "tensorflow" or results.get("epoch_order")
            or results.get("experiment") in OWN_EPOCH_ORDER):
        return []
    return ["**Caveat (training order)**: trained on TensorFlow before 2026-12-04, when a seeded run "
            "saw the training set in one fixed order every epoch (Keras on TensorFlow replays its "
            "first shuffle once a global seed is set, tensorflow/tensorflow#26179; every fit now "
            "reshuffles, `backend.fit_reshuffled`). Every arm and seed here had that order, so "
            "comparisons between arms are like for like, but absolute accuracies may be lower than "
            "with reshuffling (the depth MLPs, rerun so, lost 0.15-1.14 points of test accuracy: "
            f"`{DEPTH_RERUN}`). The command below reruns it reshuffled."]


def paired(recs, base, value, base_value=None):
    """`(a, b)`: `value(record)` of two arms' records on the seeds both have (a partial run may
    lack some), in `recs`' order; `value` is a record key or a function of a record, and
    `base_value` (default: `value`) the same for `base`."""
    get, get_base = (v if callable(v) else (lambda r, k=v: r[k]) for v in (value, base_value or value))
    ref = {r["seed"]: r for r in base}
    pairs = [(get(r), get_base(ref[r["seed"]])) for r in recs if r["seed"] in ref]
    return tuple(zip(*pairs)) if pairs else ((), ())


def curves(ax, series, y, x=None, fmt=None, **style):
    """One line per record, one colour per `(label, records)` of `series` (an arm without records
    keeps its colour), the label on its first line only: `y` against `x` (each a record key or a
    function of a record; `x` None: epochs 1, 2, ...); `fmt` (a format string, or a function of
    the label giving one, e.g. dashed for some arms) and `style` go to `ax.plot`."""
    for i, (label, recs) in enumerate(series):
        line = fmt(label) if callable(fmt) else fmt
        for j, r in enumerate(recs):
            ys = _get(r, y)
            xs = np.arange(1, len(ys) + 1) if x is None else _get(r, x)
            ax.plot(xs, ys, *([line] if line else []), color=f"C{i}", label=label if j == 0 else None, **style)


def loss_curves(ax, series):
    """Each record's validation loss per epoch, one colour per `(label, records)` of `series`
    (an arm without records keeps its colour), a dot at the kept best epoch."""
    for i, (label, recs) in enumerate(series):
        for j, r in enumerate(recs):
            v = r["history"]["val_loss"]
            ax.plot(np.arange(1, len(v) + 1), v, color=f"C{i}", alpha=0.6, lw=1, label=label if j == 0 else None)
            ax.plot(r["best_epoch"], v[r["best_epoch"] - 1], "o", color=f"C{i}", ms=3)


def loss_curve_figure(report, panels, caption, width=4.2, height=3.2):
    """`report`'s "curves" figure: a row of `loss_curves` panels, one per `(title, series)` of
    `panels`, each with its legend."""
    fig, axes = figure(ncols=len(panels), width=width, height=height)
    for ax, (title, series) in zip(axes, panels):
        loss_curves(ax, series)
        ax.set(title=title, xlabel="epoch", ylabel="validation loss")
    legends(axes)
    report.save_figure(fig, "curves", caption)
