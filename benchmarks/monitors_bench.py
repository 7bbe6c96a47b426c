"""Overhead of the monitors: `fit` bare vs `fit` with every monitor at its default frequency.

Both conditions run in one process, interleaved (bare, monitored, bare, monitored, ...) on
fresh models with the same seed, after a warm-up fit that pays the one-off imports
(matplotlib, tensorboardX). The ratio is the median monitored time over the median bare time;
the target is <= 1.10.

    KERAS_BACKEND=tensorflow .venv/bin/python benchmarks/monitors_bench.py
    KERAS_BACKEND=jax .venv/bin/python benchmarks/monitors_bench.py
    KERAS_BACKEND=jax .venv/bin/python benchmarks/monitors_bench.py --smoke   # CI, seconds

Prints one JSON object and writes benchmarks/results/monitors_<backend>.json (not in smoke mode).
"""

import argparse
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
from keras_seminar.callbacks import make_monitors

CONFIG = {
    "model": "cnn",  # the registry's TF-tutorial CNN, narrowed so a 2-core CPU runs it
    "model_options": {"filters": (16, 32), "dense_units": 128},
    "train_examples": 20000,  # of Fashion-MNIST's training split
    "probe_examples": 512,  # the monitors' fixed probe (validation images)
    "batch_size": 128,
    "epochs": 2,
    "repeats": 2,  # per condition, interleaved
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


def timed_fit(config, x, y, callbacks):
    keras.utils.set_random_seed(config["seed"])
    model = models.build_model(config["model"], **config["model_options"])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x, y, batch_size=config["batch_size"], epochs=config["epochs"], callbacks=callbacks,
              verbose=0)
    return time.perf_counter() - start


def device():
    info = {"cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count()}
    if keras.backend.backend() == "jax":
        import jax

        info["accelerator"] = str(jax.devices()[0])
        info["jax"] = jax.__version__
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        info["accelerator"] = str([d.name for d in tf.config.list_physical_devices()])
        info["tensorflow"] = tf.__version__
    return info


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
    steps = -(-len(x) // config["batch_size"]) * config["epochs"]
    result = {
        "benchmark": "monitors_overhead", "config": config, "data": source,
        "steps_per_fit": steps, "bare_seconds": bare, "monitored_seconds": monitored,
        "ratio": statistics.median(monitored) / statistics.median(bare), "target_ratio": 1.10,
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
