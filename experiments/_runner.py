"""What every experiment shares: data, small models, fitting, plots and the Markdown report.

An experiment module defines `TITLE`, `QUESTION`, a commented `CONFIG` (a dataclass), a `SMOKE`
variant that CI runs in seconds, and `run(config, report, seeds)`, which trains, measures and
fills `report` (a table, findings, PNG plots). `run_experiment` adds the evidence (command,
device, backend, versions, seeds, scale, wall time) and writes `<out>/<name>.md`.
"""

import dataclasses
import functools
import importlib
import json
import os
import sys
import time

import keras
import numpy as np

from keras_seminar import constraints, datasets, regularizers, saving
from keras_seminar.backend import device_description
from keras_seminar.training import images_to_inputs, test_metrics

EXPERIMENTS = ("positivity", "sparsity", "robustness", "gradient_norms", "information_plane",
               "depth", "receptive_fields", "game_of_life")
DPI = 80


@functools.lru_cache(maxsize=2)
def _dataset(name):
    return datasets.load(name, validation_split=0.1, seed=0, download=False)


def load(name, train_limit=None, test_limit=None, val_limit=2000, seed=0):
    """`(x_train, y_train, x_val, y_val, x_test, y_test)`: float32 images (N, 28, 28, 1) in [0, 1]."""
    d = _dataset(name)
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(d.x_train))[:train_limit]  # a seeded random slice, all classes
    return (images_to_inputs(d.x_train[idx]), d.y_train[idx], images_to_inputs(d.x_val[:val_limit]),
            d.y_val[:val_limit], images_to_inputs(d.x_test[:test_limit]), d.y_test[:test_limit])


def mlp(hidden=(256,), activation="relu", kernel_regularizer=None, kernel_constraint=None,
        output_constraint=None, input_shape=(28, 28, 1), num_classes=10, name="mlp"):
    """Flatten - Dense(h, activation) x len(hidden) - Dense(classes) - softmax.

    `kernel_constraint` applies to the hidden layers; `output_constraint` to hidden -> output
    (default: `kernel_constraint`), as in `keras_seminar.models.cnn`.
    """
    hidden_c, output_c = (constraints.get(c) for c in (kernel_constraint, output_constraint or kernel_constraint))
    kernel_regularizer = regularizers.get(kernel_regularizer)
    inputs = keras.Input(input_shape, name="images")
    x = keras.layers.Flatten(name="flatten")(inputs)
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(units, activation=activation, kernel_regularizer=kernel_regularizer,
                               kernel_constraint=hidden_c, name=f"fc{i + 1}")(x)
    x = keras.layers.Dense(num_classes, kernel_regularizer=kernel_regularizer,
                           kernel_constraint=output_c, name="logits")(x)
    return keras.Model(inputs, keras.layers.Activation("softmax", name="predictions")(x), name=name)


def fit(model, data, epochs, batch_size=128, learning_rate=1e-3, optimizer="adam", callbacks=(),
        validation=True):
    """Compiles (sparse cross-entropy, accuracy) and fits on `data` from `load`; returns the history."""
    x, y, xv, yv = data[:4]
    opt = (keras.optimizers.SGD(learning_rate, momentum=0.9) if optimizer == "sgd"
           else keras.optimizers.Adam(learning_rate))
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=list(callbacks),
                     validation_data=(xv, yv) if validation else None).history


def accuracy(model, x, y):
    return test_metrics(model, x, y)["accuracy"]


def kernels(model):
    """`{layer name: kernel as NumPy}` for every layer with a kernel."""
    return {layer.name: keras.ops.convert_to_numpy(layer.kernel) for layer in model.layers
            if getattr(layer, "kernel", None) is not None}


def mean_std(values):
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.4f} ± {values.std():.4f}" if len(values) > 1 else f"{values.mean():.4f}"


def figure(ncols=1, nrows=1, width=4.2, height=3.2):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), dpi=DPI)
    return fig, [fig.add_subplot(nrows, ncols, i + 1) for i in range(ncols * nrows)]


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


class Report:
    """A Markdown report: question, tables, findings, plots and evidence."""

    def __init__(self, name, out):
        self.name, self.out = name, str(out)
        self.sections, self.findings, self.images = [], [], []
        os.makedirs(self.out, exist_ok=True)

    def table(self, header, rows, title=None):
        lines = ([f"### {title}", ""] if title else []) + [
            "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines[-2] = "| " + " | ".join(_cell(c) for c in header) + " |"
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
        self.sections.append("\n".join(lines))

    def text(self, text):
        self.sections.append(text)

    def finding(self, text):
        self.findings.append(text)

    def save_figure(self, fig, suffix, caption=""):
        path = os.path.join(self.out, f"{self.name}_{suffix}.png")
        fig.tight_layout()
        fig.savefig(path, dpi=DPI)
        self.images.append((os.path.basename(path), caption))
        return path

    def write(self, title, question, config, seeds, elapsed):
        env = saving.environment()
        lines = [f"# {title}", "", f"**Question.** {question}", "", "## Findings", ""]
        lines += [f"- {f}" for f in self.findings] + ["", "## Results", ""]
        for section in self.sections:
            lines += [section, ""]
        for image, caption in self.images:
            lines += [f"![{caption or image}]({image})", "", f"*{caption}*" if caption else "", ""]
        lines += ["## Evidence", "",
                  f"- command: `{_command()}`",
                  f"- device: {device_description()}",
                  f"- backend: {env['backend']}; keras {env['keras']}, numpy {env['numpy']}, "
                  f"{env['backend']} {env['backend_version']}, python {env['python']}",
                  f"- seeds: {list(seeds)} ({len(list(seeds))} run(s) per setting)",
                  f"- scale: {getattr(config, 'scale', '')}",
                  f"- wall time: {elapsed:.0f} s", "", "Config:", "", "```json",
                  json.dumps(dataclasses.asdict(config), indent=1, default=str), "```", ""]
        path = os.path.join(self.out, f"{self.name}.md")
        with open(path, "w") as f:
            f.write("\n".join(lines))
        return path


def _cell(value):
    return str(value).replace("|", "\\|")  # a literal | (e.g. "|w|") would split the column


def _command():
    argv = sys.argv
    if argv and os.path.basename(argv[0]) in ("keras-seminar", "__main__.py"):
        return "keras-seminar " + " ".join(argv[1:])
    return " ".join(argv)



def resolve(name):
    """The experiment module for `name` (hyphens or underscores)."""
    key = str(name).replace("-", "_")
    if key not in EXPERIMENTS:
        raise ValueError(f"Unknown experiment {name!r}. Expected one of {list(EXPERIMENTS)}.")
    return importlib.import_module(f"experiments.{key}")


def run_experiment(name, smoke=False, seeds=None, out="reports"):
    """Runs experiment `name` (its SMOKE config when `smoke`) and writes `<out>/<name>.md`."""
    module = resolve(name)
    config = module.SMOKE if smoke else module.CONFIG
    if seeds is None:
        seeds = config.seeds
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"Expected seeds to be a positive integer. Received: seeds={seeds!r}")
    report = Report(module.__name__.rsplit(".", 1)[-1], out)
    start = time.perf_counter()
    module.run(config, report, range(seeds))
    return report.write(module.TITLE, module.QUESTION, config, range(seeds), time.perf_counter() - start)
