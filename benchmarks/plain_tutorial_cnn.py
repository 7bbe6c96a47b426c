"""The anchor of the CPU speed figures: plain Keras, nothing of keras_seminar.

The TensorFlow "Deep MNIST for experts" CNN (conv 5x5 32 - pool - conv 5x5 64 - pool - dense 1024 -
dropout 0.5 - dense 10), Adam 1e-3, batch 100, inputs scaled to [0, 1], as a user would write it
from the tutorial. After every epoch it evaluates the full test set and records the wall time
since the interpreter started (imports, data loading and compilation included), so the time to
a target accuracy is read off the epoch that first reaches it. Prints one JSON object.

    python benchmarks/plain_tutorial_cnn.py --dataset fashion_mnist --epochs 6 --seed 0

Reads the data the way the tutorial does, from `keras.datasets` files, except that it takes the
offline IDX copies (`--data-dir`, by default the folder `keras-seminar data prepare` fills) so it
runs here without the internet; reading them is plain numpy.
"""

import time

_PROCESS_START = time.perf_counter()

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def _idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load(dataset, data_dir):
    """(x_train, y_train), (x_test, y_test) as uint8 arrays from IDX or keras .npz files."""
    npz = os.path.join(data_dir, f"{dataset}.npz")
    if os.path.exists(npz):  # the package's prepared copy: plain arrays in an .npz
        with np.load(npz) as f:
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    sources = ["/usr/share/datasets/fashion-mnist"] if dataset == "fashion_mnist" else []
    for source in sources:
        if all(os.path.exists(os.path.join(source, n)) for pair in FILES.values() for n in pair):
            return tuple((_idx(os.path.join(source, FILES[s][0])),
                          _idx(os.path.join(source, FILES[s][1]))) for s in ("train", "test"))
    sys.exit(f"plain_tutorial_cnn: no {npz}; run `keras-seminar data prepare {dataset}`")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="fashion_mnist", choices=("fashion_mnist", "mnist"))
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-limit", type=int, help="first N training images (smoke runs only)")
    p.add_argument("--test-limit", type=int, help="first N test images (smoke runs only)")
    p.add_argument("--data-dir", default=os.environ.get(
        "KERAS_SEMINAR_DATA", os.path.expanduser("~/.keras_seminar/data")))
    args = p.parse_args(argv)

    import keras  # the user's imports come after argument parsing in most scripts; same here

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load(args.dataset, args.data_dir)
    x_train = (x_train[:args.train_limit].astype("float32") / 255.0)[..., None]
    x_test = (x_test[:args.test_limit].astype("float32") / 255.0)[..., None]
    y_train, y_test = y_train[:args.train_limit], y_test[:args.test_limit]
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(1024, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10),
    ])
    model.compile(keras.optimizers.Adam(1e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    epochs = []
    for epoch in range(args.epochs):
        model.fit(x_train, y_train, batch_size=args.batch_size, epochs=1, verbose=0, shuffle=True)
        accuracy = float(model.evaluate(x_test, y_test, batch_size=1000, verbose=0)[1])
        epochs.append({"epoch": epoch + 1, "test_accuracy": accuracy,
                       "seconds_from_start": time.perf_counter() - _PROCESS_START})
    print(json.dumps({
        "script": "benchmarks/plain_tutorial_cnn.py", "command": " ".join(["python", *sys.argv]),
        "dataset": args.dataset, "seed": args.seed, "batch_size": args.batch_size,
        "backend": keras.backend.backend(), "keras": keras.__version__,
        "python": platform.python_version(), "cpus": os.cpu_count(), "epochs": epochs}))


if __name__ == "__main__":
    main()
