"""Data sets of the seminar, loaded from real offline copies first.

Look-up order of `load(name)`:
1. `<data_dir>/<name>.npz` (`data_dir` argument, else `$KERAS_SEMINAR_DATA`, else
   `~/.keras_seminar/data`), written by `keras-seminar data prepare` and checked by sha256;
2. the files `keras.datasets` keeps in its cache (`~/.keras/datasets`);
3. a download through `keras.datasets`, then `tensorflow_datasets` when installed;
4. a `DataError` that lists every place looked at and how to fix it.

Example:
    >>> from keras_seminar import datasets
    >>> data = datasets.load("fashion_mnist", validation_split=0.1, seed=0)
    >>> data.x_train.shape, data.x_train.dtype
    ((54000, 28, 28), dtype('uint8'))
"""

import dataclasses
import os
import tempfile

import numpy as np

from keras_seminar._validators import check_dir, check_str
from keras_seminar.datasets import _cache, fashion_mnist, mnist
from keras_seminar.datasets._errors import DataError

__all__ = ["DATASETS", "DataError", "Dataset", "load", "load_arrays", "prepare"]

DATASETS = {mnist.NAME: mnist, fashion_mnist.NAME: fashion_mnist}


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Train / validation / test arrays: uint8 images (N, 28, 28), int64 labels (N,)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    source: str

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def input_shape(self):
        return tuple(self.x_train.shape[1:])


def _module(name):
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}. Expected one of {sorted(DATASETS)}.")
    return DATASETS[name]


def _data_dir(data_dir, writable):
    """`data_dir` checked (a path; a folder, or one that can be made), else the default."""
    if data_dir is None:
        return check_dir("data_dir", _cache.default_data_dir(), writable=writable)
    return check_dir("data_dir", os.path.expanduser(check_str("data_dir", data_dir)),
                     writable=writable)


def _check(module, arrays, where):
    """Counts, shapes, dtypes and the canonical sha256 of the decoded arrays."""
    expected = {"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28),
                "y_test": (10000,)}
    for key, shape in expected.items():
        a = arrays.get(key)
        if a is None or tuple(a.shape) != shape:
            got = None if a is None else tuple(a.shape)
            raise DataError(f"{module.NAME} from {where}: {key} has shape {got}. Expected {shape}.")
    arrays = {k: np.asarray(arrays[k]).astype(np.uint8, copy=False) for k in expected}
    digest = _cache.arrays_digest(arrays)
    if digest != module.ARRAYS_SHA256:
        raise DataError(
            f"{module.NAME} from {where} has sha256 {digest}. Expected {module.ARRAYS_SHA256}; "
            "the copy is corrupted or is not the canonical data set."
        )
    return arrays


def _tfds_arrays(module):
    import tensorflow_datasets as tfds  # optional dependency

    splits = tfds.as_numpy(tfds.load(module.TFDS_NAME, split=["train", "test"], batch_size=-1))
    (tr, te) = splits
    return {"x_train": tr["image"][..., 0], "y_train": tr["label"],
            "x_test": te["image"][..., 0], "y_test": te["label"]}


def load_arrays(name, data_dir=None, download=True):
    """The verified full train/test arrays of `name` and a description of where they came from."""
    module = _module(name)
    data_dir = _data_dir(data_dir, writable=False)
    tried = []
    arrays = _cache.read_prepared(name, data_dir)
    if arrays is not None:
        return _check(module, arrays, data_dir), data_dir
    tried.append(f"{os.path.join(data_dir, name + '.npz')}: not there")
    cache = _cache.keras_cache_dir()
    arrays = module.from_keras_cache()
    if arrays is not None:
        return _check(module, arrays, cache), cache
    tried.append(f"the Keras cache {cache}: not there")
    if download:
        for label, fetch in (("keras.datasets download", module.download),
                             ("tensorflow_datasets download", lambda: _tfds_arrays(module))):
            try:
                return _check(module, fetch(), label), label
            except ImportError as e:
                tried.append(f"{label}: not installed ({e})")
            except DataError:
                raise
            except Exception as e:  # noqa: BLE001 - network errors come in many types
                tried.append(f"{label}: failed ({type(e).__name__}: {e})")
    else:
        tried.append("downloads: switched off (download=False)")
    raise DataError(
        f"Could not find the {name} data set. Looked at:\n  - " + "\n  - ".join(tried) + "\n"
        f"To fix: run `keras-seminar data prepare {name}`, which tries "
        + "; then ".join(label for label, _ in module.offline_sources("."))
        + f". Or set ${_cache.ENV_VAR} to a folder holding "
        f"{name}.npz, or connect to the internet so keras.datasets can download it."
    )


def _split(x, y, validation_split, seed):
    """A stratified split, the same for the same seed on every machine."""
    if validation_split == 0:
        return (x, y), (x[:0], y[:0])
    rng = np.random.default_rng(seed)
    val_idx = []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        val_idx.append(idx[: int(round(len(idx) * validation_split))])
    val_mask = np.zeros(len(y), bool)
    val_mask[np.concatenate(val_idx)] = True
    return (x[~val_mask], y[~val_mask]), (x[val_mask], y[val_mask])


def load(name, validation_split=0.1, seed=0, data_dir=None, download=True):
    """Loads a data set with a deterministic, stratified validation split.

    Args:
        name: "mnist" or "fashion_mnist".
        validation_split: fraction of the 60k training images held out, in [0, 0.5].
        seed: integer seed of the split.
        data_dir: folder of prepared data; default `$KERAS_SEMINAR_DATA` or `~/.keras_seminar/data`.
        download: whether to fall back to downloading when no local copy exists.

    Returns:
        A `Dataset`.

    Raises:
        ValueError: a bad argument, named (`data_dir=123`, a `data_dir` that is a file).
        DataError: no verified copy could be found or read; the message says the fix.
    """
    module = _module(name)
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) \
            or not 0 <= validation_split <= 0.5:
        raise ValueError(f"Expected validation_split in [0, 0.5]. Received: validation_split={validation_split!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"Expected seed to be a non-negative integer. Received: seed={seed!r}")
    data_dir = _data_dir(data_dir, writable=False)
    arrays, source = load_arrays(name, data_dir=data_dir, download=download)
    y_train = arrays["y_train"].astype(np.int64)
    (x_tr, y_tr), (x_val, y_val) = _split(arrays["x_train"], y_train, validation_split, int(seed))
    return Dataset(name, x_tr, y_tr, x_val, y_val, arrays["x_test"],
                   arrays["y_test"].astype(np.int64), module.CLASS_NAMES, source)


def prepare(name, source=None, data_dir=None, force=False, verbose=True):
    """Imports the real offline copy of `name` into the data folder, verified.

    Args:
        name: "mnist" or "fashion_mnist".
        source: an explicit copy to import (a folder of IDX `.gz` files for Fashion-MNIST,
            `mnist.pkl.gz` or `mnist.npz` for MNIST). Default: the package-manager copies.
        data_dir: where to write; default `$KERAS_SEMINAR_DATA` or `~/.keras_seminar/data`.
        force: re-import even when a verified copy is already there.

    Returns:
        The path of the written (or already present) `.npz` file.

    Raises:
        ValueError: `data_dir` is not a writable folder (checked before any work) or `source`
            is not a path.
        DataError: the source is unusable; the message names the file and the fix.
    """
    module = _module(name)
    data_dir = _data_dir(data_dir, writable=True)  # before any work: a typo costs seconds
    if source is not None:
        source = os.path.expanduser(check_str("source", source))
    _cache.clean_leftovers(data_dir)
    target = os.path.join(data_dir, f"{name}.npz")
    say = print if verbose else (lambda *a, **k: None)
    if not force and source is None:
        try:
            if _cache.read_prepared(name, data_dir) is not None:
                say(f"{name}: verified copy already at {target}")
                return target
        except DataError as e:
            say(f"{name}: existing copy rejected ({e}); importing again")
    errors = []
    with tempfile.TemporaryDirectory(prefix="keras_seminar_") as workdir:
        candidates = ([(source, lambda: module.read_source(source))] if source
                      else module.offline_sources(workdir))
        for label, fetch in candidates:
            say(f"{name}: trying {label}")
            try:
                arrays = fetch()
            except DataError as e:
                if source:
                    raise
                errors.append(f"{label}: {e}")
                continue
            if arrays is None:
                errors.append(f"{label}: not found")
                continue
            arrays = _check(module, arrays, label)
            _cache.write_prepared(name, arrays, data_dir, source=label)
            say(f"{name}: imported from {label} -> {target}")
            return target
    raise DataError(
        f"Could not import {name}. Tried:\n  - " + "\n  - ".join(errors) + "\n"
        "To fix: pass --source PATH pointing at a copy, or let `keras-seminar train` "
        "download it through keras.datasets when online."
    )
