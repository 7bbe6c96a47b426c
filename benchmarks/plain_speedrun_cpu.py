"""`speedrun_cpu` written plainly in Keras, nothing of keras_seminar: the per-epoch anchor.

The same architecture as `keras-seminar train --model speedrun_cpu` (stem conv 16 - BN - GELU,
then per stage conv - 2x2 max-pool - BN - GELU - conv - BN - GELU at 32/96/128 filters, global
max-pool, softmax; the same parameter count) and the same training step: Adam under a
one-cycle schedule (linear warm-up to the peak over 15% of the steps, then cosine decay), label
smoothing 0.2, batch 256, 16 steps per compiled call (what `keras-seminar train` uses on
TensorFlow), shuffled every epoch. The augmentation is Keras's own: `RandomTranslation` by up
to 2 pixels (nearest, zero fill) and `RandomFlip`, where the package uses its fused
`RandomShift` (the same pad-and-crop shift and flip). Prints one JSON object with the wall
seconds of every epoch (the first includes compilation).

    python benchmarks/plain_speedrun_cpu.py --epochs 2 --seed 0
"""

import time

_PROCESS_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402

from plain_tutorial_cnn import load  # noqa: E402  (plain numpy: reads the prepared arrays)

FILTERS, STEM, BATCH, PEAK, WARMUP, SMOOTHING = (32, 96, 128), 16, 256, 4e-3, 0.15, 0.2
BN = {"momentum": 0.9, "epsilon": 1e-5}


def build(keras):
    def conv_bn_gelu(x, filters, pool=False):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        if pool:
            x = keras.layers.MaxPooling2D(2)(x)
        x = keras.layers.BatchNormalization(**BN)(x)
        return keras.layers.Activation("gelu")(x)

    inputs = keras.Input((28, 28, 1))
    x = keras.layers.RandomTranslation(2 / 28, 2 / 28, fill_mode="constant",
                                       interpolation="nearest")(inputs)
    x = keras.layers.RandomFlip("horizontal")(x)
    x = conv_bn_gelu(x, STEM)
    for filters in FILTERS:
        x = conv_bn_gelu(conv_bn_gelu(x, filters, pool=True), filters)
    x = keras.layers.GlobalMaxPooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=2, help="epochs timed (the first compiles)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-limit", type=int, help="first N training images (smoke runs only)")
    p.add_argument("--data-dir", default=os.environ.get(
        "KERAS_SEMINAR_DATA", os.path.expanduser("~/.keras_seminar/data")))
    args = p.parse_args(argv)

    import keras

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), _ = load("fashion_mnist", args.data_dir)
    x_train = (x_train[:args.train_limit].astype("float32") / 255.0)[..., None]
    y_train = keras.utils.to_categorical(y_train[:args.train_limit], 10)
    steps = args.epochs * -(-len(x_train) // BATCH)
    warmup = int(steps * WARMUP)
    schedule = keras.optimizers.schedules.CosineDecay(
        PEAK / 10, decay_steps=max(1, steps - warmup), warmup_target=PEAK, warmup_steps=warmup)
    model = build(keras)
    model.compile(keras.optimizers.Adam(schedule),
                  keras.losses.CategoricalCrossentropy(label_smoothing=SMOOTHING),
                  metrics=["accuracy"], steps_per_execution=16)
    seconds = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.fit(x_train, y_train, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)
        seconds.append(round(time.perf_counter() - start, 3))
    print(json.dumps({
        "script": "benchmarks/plain_speedrun_cpu.py", "command": " ".join(["python", *sys.argv]),
        "images": len(x_train), "params": model.count_params(), "batch_size": BATCH,
        "epoch_seconds": seconds, "seconds_from_start": round(time.perf_counter() - _PROCESS_START, 2),
        "backend": keras.backend.backend(), "keras": keras.__version__,
        "python": platform.python_version(), "cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
