"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 70,000 28x28 grey images of clothing."""

import os

from keras_seminar.datasets import _cache, _fetch
from keras_seminar.datasets._errors import DataError
from keras_seminar.datasets._idx import read_idx

__all__ = ["ARRAYS_SHA256", "CLASS_NAMES", "DEBIAN_DIR", "DEBIAN_PACKAGE", "download",
           "from_keras_cache", "has_idx_files", "HORIZONTAL_FLIP_SAFE", "NAME", "offline_sources",
           "read_idx_folder", "read_source", "SYSTEM_DIR", "TFDS_NAME"]

NAME = "fashion_mnist"
CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
# sha256 of the decoded arrays (see _cache.arrays_digest): any copy, from any source, must match.
ARRAYS_SHA256 = "82aa995a3fccbc9bfb41fa0853f4a48f92e8e42aeb13f78237dd85be83c6e51e"
TFDS_NAME = "fashion_mnist"
# A mirrored shirt is still a shirt: horizontal flips keep labels.
HORIZONTAL_FLIP_SAFE = True
DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_DIR = "usr/share/datasets/fashion-mnist"
SYSTEM_DIR = "/" + DEBIAN_DIR
_FILES = {
    "x_train": ("train-images-idx3-ubyte.gz", (60000, 28, 28)),
    "y_train": ("train-labels-idx1-ubyte.gz", (60000,)),
    "x_test": ("t10k-images-idx3-ubyte.gz", (10000, 28, 28)),
    "y_test": ("t10k-labels-idx1-ubyte.gz", (10000,)),
}


def read_idx_folder(folder):
    """Reads the four original IDX `.gz` files from `folder`."""
    return {key: read_idx(os.path.join(folder, fname), shape) for key, (fname, shape) in _FILES.items()}


def has_idx_files(folder):
    return all(os.path.exists(os.path.join(folder, f)) for f, _ in _FILES.values())


def offline_sources(workdir):
    """(description, thunk) pairs, tried in order by `prepare`."""
    return [
        (f"the Debian package {DEBIAN_PACKAGE}, if installed ({SYSTEM_DIR})",
         lambda: read_idx_folder(SYSTEM_DIR) if has_idx_files(SYSTEM_DIR) else None),
        (f"`apt-get download {DEBIAN_PACKAGE}` (downloads the .deb into a temporary folder and "
         "unpacks it there; no root needed, nothing is installed)",
         lambda: read_idx_folder(_fetch.debian_package_files(DEBIAN_PACKAGE, DEBIAN_DIR, workdir))),
    ]


def read_source(path):
    """Reads an explicit source: a folder of the four IDX `.gz` files."""
    if not os.path.isdir(path) or not has_idx_files(path):
        missing = [f for f, _ in _FILES.values() if not os.path.isfile(os.path.join(path, f))]
        what = "is not a folder" if not os.path.isdir(path) else f"lacks {', '.join(missing)}"
        raise DataError(f"--source {path} {what}. Expected a folder holding the four Fashion-MNIST "
                        f"IDX files ({', '.join(f for f, _ in _FILES.values())}); point "
                        "--source at that folder.")
    return read_idx_folder(path)


def from_keras_cache():
    """The files `keras.datasets.fashion_mnist` leaves in its cache, if all are there."""
    folder = os.path.join(_cache.keras_cache_dir(), "fashion-mnist")
    return read_idx_folder(folder) if has_idx_files(folder) else None


def download():
    """Downloads through `keras.datasets` (needs the internet)."""
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
