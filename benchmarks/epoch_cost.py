"""Per-epoch cost of zoo models relative to ResNet-20, timed in one process (robust to load).

Each model is built with its recipe's augmentation, compiled with its recipe (optimizer,
schedule, label smoothing) and fitted on the first `--images` Fashion-MNIST training images at
its recipe's batch size for `--epochs` epochs; the first epoch (compilation) is dropped and the
median of the others is the epoch time. ResNet-20 is timed first and last; each model's ratio is
its time per image over ResNet-20's (mean of the two), and its idle 60k-epoch estimate is
ratio x `--reference-seconds` (ResNet-20's idle 60k epoch on this machine, TF 2.21, batch 128).
Ratios come from wall time and from process CPU time; on a loaded machine the wall-time ratio
follows each process's share of the cores more than its work, and the CPU-time one is the
steadier (ResNet-20's CPU time per image varied by 1% between the first and last timing of a
run at load 11-14, its wall time by 30%). The load average is recorded beside every timing.

    python benchmarks/epoch_cost.py wrn16_4 wrn28_10:512 \\
        'speedrun_small={"stackwise_num_filters": [32, 96, 96]}' --out results/epoch_cost.json

A model is `NAME`, `NAME:IMAGES` (a smaller slice for a slow model) or `NAME=JSON` (builder
options). Steps run 16 per compiled call, as `keras-seminar train` does on TensorFlow.
"""

import argparse
import json
import os
import statistics
import sys
import time

import keras

from keras_seminar import datasets, models
from keras_seminar.training.fit import compile_model, images_to_inputs

REFERENCE = "resnet20"


class _EpochTimes(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds, self.cpu_seconds = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter(), time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start[0])
        self.cpu_seconds.append(time.process_time() - self._start[1])


def parse_model(text, default_images):
    """`NAME`, `NAME:IMAGES` or `NAME=JSON` -> (label, name, images, options)."""
    name, _, options = text.partition("=")
    name, _, images = name.partition(":")
    return text, name, int(images) if images else default_images, json.loads(options or "{}")


def time_epoch(name, options, x, y, epochs, seed=0):
    """Median seconds of epochs 2.. of `name` on (x, y), and the load average around them."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    recipe = models.get_recipe(name)
    model = models.build_model(name, augment=recipe.augment, **options)
    steps = -(-len(x) // recipe.batch_size)
    compile_model(model, recipe, steps, steps_per_execution=16)
    timer = _EpochTimes()
    load_before = os.getloadavg()[0]
    model.fit(x, y, batch_size=recipe.batch_size, epochs=epochs, shuffle=False, verbose=0,
              callbacks=[timer])
    return {"seconds": round(statistics.median(timer.seconds[1:]), 3),
            "cpu_seconds": round(statistics.median(timer.cpu_seconds[1:]), 3), "images": len(x),
            "batch_size": recipe.batch_size, "params": model.count_params(),
            "load_before": load_before, "load_after": os.getloadavg()[0]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+", help="NAME, NAME:IMAGES or NAME=JSON")
    p.add_argument("--images", type=int, default=6000, help="training images per timed epoch")
    p.add_argument("--epochs", type=int, default=2, help="epochs per fit (the first is dropped)")
    p.add_argument("--reference-seconds", type=float, default=200.0,
                   help="ResNet-20's idle 60k-image epoch here (TF 2.21, batch 128)")
    p.add_argument("--out")
    args = p.parse_args(argv)
    if args.epochs < 2:
        p.error(f"Expected --epochs >= 2 (the first epoch compiles). Received: {args.epochs}")
    data = datasets.load("fashion_mnist", validation_split=0.0)
    x_all, y_all = images_to_inputs(data.x_train), data.y_train
    runs = [(REFERENCE, REFERENCE, args.images, {})]
    runs += [parse_model(m, args.images) for m in args.models] + [runs[0]]
    rows, reference = {}, []
    for label, name, images, options in runs:
        row = time_epoch(name, options, x_all[:images], y_all[:images], args.epochs)
        row["per_image_ms"] = round(1e3 * row["seconds"] / images, 4)
        row["cpu_per_image_ms"] = round(1e3 * row["cpu_seconds"] / images, 4)
        print(json.dumps({label: row}), flush=True)
        if name == REFERENCE and not options:
            reference.append((row["per_image_ms"], row["cpu_per_image_ms"]))
        else:
            rows[label] = row
    ref_ms, ref_cpu_ms = (statistics.mean(r[i] for r in reference) for i in (0, 1))
    for row in rows.values():
        row["ratio_to_resnet20"] = round(row["per_image_ms"] / ref_ms, 3)
        row["cpu_ratio_to_resnet20"] = round(row["cpu_per_image_ms"] / ref_cpu_ms, 3)
        for kind in ("", "cpu_"):  # on a loaded machine the CPU-time ratio is the steadier
            row[f"idle_60k_epoch_seconds_from_{kind or 'wall_'}ratio"] = round(
                row[f"{kind}ratio_to_resnet20"] * args.reference_seconds, 1)
    result = {"command": " ".join(["python", "benchmarks/epoch_cost.py", *sys.argv[1:]]),
              "keras": keras.__version__, "backend": keras.backend.backend(),
              "cpus": os.cpu_count(), "resnet20_wall_and_cpu_ms_per_image": reference, "models": rows}
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
