"""Time-to-accuracy and throughput of the package's training path, as JSON.

Prints one JSON object per seed (device, backend, versions, seed, cold wall time with
compilation, training-only time, img/s, test accuracy; for the first seed also the seconds
since the interpreter started) and a summary. `--compare-plain`
also times a plain-Keras ResNet-20 (the keras.io CIFAR-10 example, written without this
package) side by side in the same process, so the ratio is measured in one run.

    KERAS_BACKEND=jax python benchmarks/speed.py --model resnet20 --epochs 10 --seeds 0 1 2 \
        --precision mixed_bfloat16 --steps-per-execution 32 --compare-plain      # GPU figures
    KERAS_BACKEND=jax python benchmarks/speed.py --model cnn --fused --compare-unfused   # ratio
    python benchmarks/speed.py --smoke                                           # CPU smoke
"""

import argparse
import json
import os
import sys
import tempfile
import time

_PROCESS_START = time.perf_counter()  # before Keras and the backend are imported

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_seminar import datasets, saving  # noqa: E402
from keras_seminar.training import TrainConfig, images_to_inputs, train  # noqa: E402


def plain_resnet20(input_shape=(28, 28, 1), num_classes=10):
    """ResNet-20 v1 exactly as a user would write it from the keras.io example, plain Keras."""

    def conv_bn(x, filters, strides=1, activation=True):
        x = keras.layers.Conv2D(filters, 3, strides, padding="same", kernel_initializer="he_normal",
                                kernel_regularizer=keras.regularizers.L2(1e-4))(x)
        x = keras.layers.BatchNormalization()(x)
        return keras.layers.Activation("relu")(x) if activation else x

    inputs = keras.Input(input_shape)
    x = conv_bn(inputs, 16)
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(3):
            strides = 2 if stage > 0 and block == 0 else 1
            y = conv_bn(conv_bn(x, filters, strides), filters, activation=False)
            if strides > 1:
                x = conv_bn(x, filters, strides, activation=False)
            x = keras.layers.Activation("relu")(keras.layers.add([x, y]))
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch; the first one includes compilation."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)

    def steady_seconds_per_epoch(self):
        """Median epoch time after the first (compiling) one; the first if there is no other."""
        return float(np.median(self.seconds[1:] if len(self.seconds) > 1 else self.seconds))


def time_plain(data, epochs, batch_size, seed, limit):
    keras.utils.set_random_seed(seed)
    x, y = images_to_inputs(data.x_train[:limit]), data.y_train[:limit]
    model = plain_resnet20()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = EpochTimer()
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[timer])
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(images_to_inputs(data.x_test), data.y_test, verbose=0)[1]
    return {"img_per_s": len(x) / timer.steady_seconds_per_epoch(), "train_seconds": seconds,
            "accuracy": accuracy}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="cnn")
    p.add_argument("--dataset", default="fashion_mnist", choices=sorted(datasets.DATASETS))
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--precision", default="float32")
    p.add_argument("--steps-per-execution", type=int, default=1)
    p.add_argument("--fused", action="store_true", help="device-resident data, K steps per call")
    p.add_argument("--tta", action=argparse.BooleanOptionalAction, default=None,
                   help="flip test-time augmentation (default: the model's recipe)")
    p.add_argument("--compile-cache", help="JAX persistent compilation cache folder")
    p.add_argument("--compare-unfused", action="store_true",
                   help="also time the same model and recipe with plain fit, in the same process")
    p.add_argument("--train-limit", type=int)
    p.add_argument("--compare-plain", action="store_true")
    p.add_argument("--smoke", action="store_true", help="tiny CPU run (CI smoke, not a figure)")
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args(argv)
    if args.smoke:
        args.epochs, args.train_limit, args.batch_size = 2, 1024, 128
    env = {**saving.environment(),  # device, backend and its version, keras, numpy, python
           "command": " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]])}
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            timer = EpochTimer()
            cold = time.perf_counter()
            result = train(TrainConfig(
                model=args.model, dataset=args.dataset, epochs=args.epochs, seed=seed,
                batch_size=args.batch_size, train_limit=args.train_limit, precision=args.precision,
                steps_per_execution=args.steps_per_execution, fused=args.fused, tta=args.tta,
                compile_cache=args.compile_cache, runs_dir=tmp, models_dir=tmp,
                validation_split=0.0, resume=False, verbose=0, slim=True, callbacks=[timer]))
            run = {"seed": seed, "accuracy": result["test"]["accuracy"],
                   "train_seconds": result["train_seconds"],
                   "cold_wall_seconds": time.perf_counter() - cold,
                   # first seed only: from interpreter start (imports too), what a user waits
                   "process_seconds": None if runs else time.perf_counter() - _PROCESS_START,
                   "epoch_seconds": timer.seconds,
                   "img_per_s": result["train_examples"] / timer.steady_seconds_per_epoch()}
            if args.compare_unfused:
                timer_plain = EpochTimer()
                plain = train(TrainConfig(
                    model=args.model, dataset=args.dataset, epochs=args.epochs, seed=seed,
                    batch_size=args.batch_size, train_limit=args.train_limit,
                    precision=args.precision, steps_per_execution=args.steps_per_execution,
                    tta=args.tta, runs_dir=tmp, models_dir=tmp, run_name=f"unfused_s{seed}",
                    validation_split=0.0, resume=False, verbose=0, slim=True,
                    callbacks=[timer_plain]))
                run["unfused"] = {"accuracy": plain["test"]["accuracy"],
                                  "train_seconds": plain["train_seconds"],
                                  "img_per_s": plain["train_examples"] / timer_plain.steady_seconds_per_epoch()}
                run["speedup_vs_unfused"] = run["img_per_s"] / run["unfused"]["img_per_s"]
            if args.compare_plain:
                data = datasets.load(args.dataset, validation_split=0.0, seed=seed)
                plain = time_plain(data, result["epochs"], result["recipe"]["batch_size"], seed,
                                   args.train_limit)
                run["plain_keras"] = plain
                run["speedup_vs_plain"] = run["img_per_s"] / plain["img_per_s"]
            runs.append(run)
            print(json.dumps({**env, **run, "model": args.model, "dataset": args.dataset}))
    summary = {**env, "model": args.model, "dataset": args.dataset, "precision": args.precision,
               "fused": args.fused, "tta": args.tta, "seeds": args.seeds, "runs": runs,
               "mean_accuracy": float(np.mean([r["accuracy"] for r in runs])),
               "mean_train_seconds": float(np.mean([r["train_seconds"] for r in runs])),
               "mean_img_per_s": float(np.mean([r["img_per_s"] for r in runs]))}
    for key in ("speedup_vs_unfused", "speedup_vs_plain"):
        if key in runs[0]:
            summary[f"mean_{key}"] = float(np.mean([r[key] for r in runs]))
    print(json.dumps(summary, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(summary, f, indent=2)
    return summary


if __name__ == "__main__":
    main()
