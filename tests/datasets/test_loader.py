"""The loader on the real offline data: counts, dtypes, balance, split, and corrupted copies."""

import gzip
import os
import shutil

import numpy as np
import pytest

from keras_seminar import datasets
from keras_seminar.datasets import DataError, _cache, fashion_mnist, mnist
from keras_seminar.datasets._idx import read_idx


def test_fashion_counts_dtypes_and_balance(fashion):
    assert fashion.x_train.shape == (54000, 28, 28) and fashion.x_val.shape == (6000, 28, 28)
    assert fashion.x_test.shape == (10000, 28, 28)
    assert fashion.x_train.dtype == np.uint8 and fashion.y_train.dtype == np.int64
    # Fashion-MNIST is exactly balanced: 6,000 / class in train, 1,000 in test.
    full = np.concatenate([fashion.y_train, fashion.y_val])
    assert np.bincount(full).tolist() == [6000] * 10
    assert np.bincount(fashion.y_test).tolist() == [1000] * 10
    assert np.bincount(fashion.y_val).tolist() == [600] * 10  # stratified split
    assert fashion.class_names[0] == "T-shirt/top" and fashion.num_classes == 10
    assert fashion.x_train.max() == 255 and fashion.x_train.min() == 0


def test_mnist_is_the_canonical_60k(mnist):
    full = np.concatenate([mnist.y_train, mnist.y_val])
    assert len(full) == 60000 and len(mnist.y_test) == 10000
    assert np.bincount(full).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    arrays, _ = datasets.load_arrays("mnist", download=False)
    assert arrays["y_train"][:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_split_is_deterministic_and_disjoint():
    a = datasets.load("mnist", validation_split=0.2, seed=3, download=False)
    b = datasets.load("mnist", validation_split=0.2, seed=3, download=False)
    c = datasets.load("mnist", validation_split=0.2, seed=4, download=False)
    assert np.array_equal(a.x_val, b.x_val) and np.array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.y_val, c.y_val)
    assert len(a.y_val) + len(a.y_train) == 60000 and abs(len(a.y_val) - 12000) <= 10
    none = datasets.load("mnist", validation_split=0, download=False)
    assert len(none.y_train) == 60000 and len(none.y_val) == 0


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "cifar10"}, "Unknown dataset 'cifar10'"),
    ({"name": "mnist", "validation_split": 0.9}, "validation_split=0.9"),
    ({"name": "mnist", "validation_split": "0.1"}, "validation_split='0.1'"),
    ({"name": "mnist", "seed": -1}, "seed=-1"),
    ({"name": "mnist", "seed": 1.5}, "seed=1.5"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.load(download=False, **kwargs)


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


@pytest.fixture(scope="module")
def idx_folder(tmp_path_factory):
    """The real Fashion-MNIST written back as the four original IDX .gz files."""
    arrays, _ = datasets.load_arrays("fashion_mnist", download=False)
    folder = tmp_path_factory.mktemp("idx")
    for key, (fname, _shape) in fashion_mnist._FILES.items():
        _write_idx(folder / fname, arrays[key])
    return folder


def test_prepare_from_idx_source_writes_verified_copy(idx_folder, tmp_path):
    path = datasets.prepare("fashion_mnist", source=str(idx_folder), data_dir=str(tmp_path),
                            verbose=False)
    assert os.path.exists(path) and os.path.exists(tmp_path / "fashion_mnist.json")
    again = datasets.load("fashion_mnist", data_dir=str(tmp_path), download=False)
    assert again.source == str(tmp_path) and len(again.y_test) == 10000


def test_truncated_idx_is_rejected(idx_folder, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(idx_folder, bad)
    f = bad / "train-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[:-5000])
    with pytest.raises(DataError, match="corrupted or truncated"):
        datasets.prepare("fashion_mnist", source=str(bad), data_dir=str(tmp_path / "out"),
                         verbose=False)
    assert not (tmp_path / "out" / "fashion_mnist.npz").exists()  # nothing half-written


def test_idx_header_and_length_checks(tmp_path):
    _write_idx(tmp_path / "short.gz", np.zeros((10, 28, 28), np.uint8))
    with pytest.raises(DataError, match=r"holds shape \(10, 28, 28\). Expected \(60000, 28, 28\)"):
        read_idx(tmp_path / "short.gz", (60000, 28, 28))
    with gzip.open(tmp_path / "magic.gz", "wb") as f:
        f.write(b"\x12\x34\x56\x78" + bytes(100))
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(tmp_path / "magic.gz", (100,))
    with gzip.open(tmp_path / "long.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + (4).to_bytes(4, "big") + bytes(7))
    with pytest.raises(DataError, match="truncated or has trailing garbage"):
        read_idx(tmp_path / "long.gz", (4,))


def test_wrong_content_with_right_shape_is_rejected(idx_folder, tmp_path):
    bad = tmp_path / "flipped"
    shutil.copytree(idx_folder, bad)
    labels = read_idx(bad / "t10k-labels-idx1-ubyte.gz", (10000,))
    labels[0] = (labels[0] + 1) % 10
    _write_idx(bad / "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(DataError, match="not the canonical data set"):
        datasets.prepare("fashion_mnist", source=str(bad), data_dir=str(tmp_path / "o"), verbose=False)


def test_corrupted_prepared_copy_is_rejected(tmp_path):
    src = os.path.join(_cache.default_data_dir(), "mnist")
    for ext in (".npz", ".json"):
        shutil.copy(src + ext, tmp_path / f"mnist{ext}")
    npz = tmp_path / "mnist.npz"
    npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])
    with pytest.raises(DataError, match="corrupted or truncated.*data prepare mnist"):
        datasets.load("mnist", data_dir=str(tmp_path), download=False)


def test_mnist_pickle_checked_before_unpickling(tmp_path):
    fake = tmp_path / "mnist.pkl.gz"
    fake.write_bytes(b"not the real file")
    with pytest.raises(DataError, match="It was not unpickled"):
        mnist.read_pickle(str(fake))


def test_missing_data_error_lists_places_and_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    with pytest.raises(DataError) as info:
        datasets.load("fashion_mnist", data_dir=str(tmp_path / "empty"), download=False)
    message = str(info.value)
    for expected in ("fashion_mnist.npz: not there", "the Keras cache", "switched off",
                     "keras-seminar data prepare fashion_mnist", "KERAS_SEMINAR_DATA"):
        assert expected in message


def test_keras_cache_is_used(tmp_path, monkeypatch):
    """A mnist.npz in the Keras cache (what keras.datasets downloads) is found offline."""
    arrays, _ = datasets.load_arrays("mnist", download=False)
    cache = tmp_path / "kh" / "datasets"
    cache.mkdir(parents=True)
    np.savez(cache / "mnist.npz", **arrays)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    got, where = datasets.load_arrays("mnist", data_dir=str(tmp_path / "none"), download=False)
    assert where == str(cache) and np.array_equal(got["x_test"], arrays["x_test"])
