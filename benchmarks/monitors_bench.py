"""Overhead of the monitors: `fit` bare vs `fit` with every monitor at its default frequency.

Both conditions run in one process, interleaved (bare, monitored, ...) on fresh models with
the same seed, after a warm-up fit that pays the one-off imports (matplotlib, tensorboardX).
Three ratios are reported, target <= 1.10:

- `ratio`: measured inside the monitored fit: 1 + (seconds spent in the monitors' hooks) /
  (the rest of that fit). Both parts come from the same seconds of the same run, so it holds
  on a shared, loaded machine where two fits a minute apart differ by 30%.
- `ratio_cpu`: process CPU time, monitored fit over bare fit.
- `ratio_wall`: wall clock, fastest monitored fit over fastest bare fit (noisy when shared).

The monitors cost a fixed amount per epoch and per fit, so ratios fall as epochs grow: the
config uses the full training split, as `keras-seminar train` does.

    KERAS_BACKEND=tensorflow .venv/bin/python benchmarks/monitors_bench.py
    KERAS_BACKEND=jax .venv/bin/python benchmarks/monitors_bench.py
    KERAS_BACKEND=jax .venv/bin/python benchmarks/monitors_bench.py --smoke   # CI, seconds

Prints one JSON object and writes benchmarks/results/monitors_<backend>.json (not in smoke mode).
"""

import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time

import keras
import numpy as np

from keras_seminar import datasets, models, saving
from keras_seminar.backend import device_description
from keras_seminar.callbacks import make_monitors

CONFIG = {
    "model": "cnn",  # the registry's TF-tutorial CNN, narrowed so a 2-core CPU runs it
    "model_options": {"filters": (16, 32), "dense_units": 128},
    "train_examples": 54000,  # all of Fashion-MNIST's training split (validation_split=0.1)
    "probe_examples": 512,  # the monitors' fixed probe (validation images)
    "batch_size": 128,
    "epochs": 2,
    "repeats": 1,  # per condition, interleaved
    "monitors": ["gradients", "sparsity", "infoplane", "histograms", "filters"],
    "seed": 0,
}
SMOKE = {**CONFIG, "train_examples": 1024, "probe_examples": 128, "epochs": 1, "repeats": 1}


def load(config):
    try:
        data = datasets.load("fashion_mnist", validation_split=0.1, seed=config["seed"], download=False)
        x, y = data.x_train[:config["train_examples"]], data.y_train[:config["train_examples"]]
        px, py = data.x_val[:config["probe_examples"]], data.y_val[:config["probe_examples"]]
        source = "fashion_mnist"
    except (OSError, ValueError, RuntimeError):  # no local copy: same shapes, random pixels
        rng = np.random.default_rng(config["seed"])
        n = config["train_examples"] + config["probe_examples"]
        xs, ys = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n)
        x, y, px, py = xs[:-config["probe_examples"]], ys[:-config["probe_examples"]], \
            xs[-config["probe_examples"]:], ys[-config["probe_examples"]:]
        source = "synthetic"
    prep = lambda a: a.astype("float32")[..., None] / 255.0  # noqa: E731
    return prep(x), y, prep(px), py, source


HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_end")


def _timed(method, clock):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            clock["seconds"] += time.perf_counter() - start
    return timed


def instrument(callbacks, clock):
    """Makes every hook of `callbacks` add its wall time to `clock["seconds"]`."""
    for callback in callbacks:
        for hook in HOOKS:
            setattr(callback, hook, _timed(getattr(callback, hook), clock))
    return callbacks


def timed_fit(config, x, y, callbacks):
    """`(wall seconds, process CPU seconds, seconds inside the callbacks)` of one fit."""
    keras.utils.set_random_seed(config["seed"])
    model = models.build_model(config["model"], **config["model_options"])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    clock = {"seconds": 0.0}
    instrument(callbacks, clock)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(x, y, batch_size=config["batch_size"], epochs=config["epochs"], callbacks=callbacks,
              verbose=0)
    return time.perf_counter() - start, time.process_time() - cpu, clock["seconds"]


def device():
    backend = keras.backend.backend()
    return {"cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "accelerator": device_description(),
            backend: getattr(importlib.import_module(backend), "__version__", "?")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI; writes no result file")
    args = parser.parse_args(argv)
    config = SMOKE if args.smoke else CONFIG
    x, y, px, py, source = load(config)
    bare, monitored = [], []
    with tempfile.TemporaryDirectory() as runs:
        def monitors(i):
            return make_monitors(config["monitors"], os.path.join(runs, f"run{i}"), px, py)

        small = {**config, "epochs": 1}
        timed_fit(small, x[:4 * config["batch_size"]], y[:4 * config["batch_size"]], monitors("warmup"))
        for i in range(config["repeats"]):
            bare.append(timed_fit(config, x, y, []))
            monitored.append(timed_fit(config, x, y, monitors(i)))
    inside = [m[2] / (m[0] - m[2]) for m in monitored]
    steps = -(-len(x) // config["batch_size"]) * config["epochs"]
    result = {
        "benchmark": "monitors_overhead", "config": config, "data": source, "steps_per_fit": steps,
        "bare_seconds": [b[0] for b in bare], "monitored_seconds": [m[0] for m in monitored],
        "seconds_in_monitors": [m[2] for m in monitored],
        "bare_cpu_seconds": [b[1] for b in bare], "monitored_cpu_seconds": [m[1] for m in monitored],
        "ratio": 1.0 + statistics.median(inside), "target_ratio": 1.10,
        "ratio_cpu": statistics.median(m[1] for m in monitored) / statistics.median(b[1] for b in bare),
        "ratio_wall": min(m[0] for m in monitored) / min(b[0] for b in bare),
        "monitor_seconds_per_epoch": statistics.median(m[2] for m in monitored) / config["epochs"],
        "load_average_1min": os.getloadavg()[0],
        "device": device(),
        "environment": {**saving.environment(), "command": "python " + " ".join(sys.argv)},
    }
    print(json.dumps(result, indent=2, default=str))
    if not args.smoke:
        out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                           f"monitors_{keras.backend.backend()}.json")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w") as f:
            json.dump(result, f, indent=2, default=str)
    return result


if __name__ == "__main__":
    main()
