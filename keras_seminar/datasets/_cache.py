"""Where prepared data sets live, and how they are written and verified.

A prepared data set is `<data_dir>/<name>.npz` (uint8 images, uint8 labels) plus
`<data_dir>/<name>.json`, a manifest holding the sha256 of the arrays. Both are written
atomically (temporary file + `os.replace`), so an interrupted prepare never leaves a
half-written file behind.
"""

import hashlib
import json
import os
import tempfile
import zipfile

import numpy as np

from keras_seminar.datasets._errors import DataError

ENV_VAR = "KERAS_SEMINAR_DATA"
ARRAY_KEYS = ("x_train", "y_train", "x_test", "y_test")


def default_data_dir():
    """`$KERAS_SEMINAR_DATA`, else `~/.keras_seminar/data`."""
    return os.path.expanduser(os.environ.get(ENV_VAR) or "~/.keras_seminar/data")


def keras_cache_dir():
    """The folder `keras.utils.get_file` caches data sets in (honours `$KERAS_HOME`)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "datasets")


def arrays_digest(arrays):
    """sha256 over the four arrays' shapes and bytes, in `ARRAY_KEYS` order."""
    h = hashlib.sha256()
    for key in ARRAY_KEYS:
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def file_sha256(path, chunk=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write_bytes(path, write_fn, suffix=".tmp"):
    """Calls `write_fn(file_object)` on a temporary file, then renames it over `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=os.path.basename(path) + ".", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_prepared(name, arrays, data_dir, source):
    """Writes `<name>.npz` and its manifest atomically; returns the manifest."""
    digest = arrays_digest(arrays)
    npz_path = os.path.join(data_dir, f"{name}.npz")
    atomic_write_bytes(npz_path, lambda f: np.savez_compressed(f, **arrays))
    manifest = {
        "name": name,
        "source": source,
        "arrays_sha256": digest,
        "file_sha256": file_sha256(npz_path),
        "shapes": {k: list(arrays[k].shape) for k in ARRAY_KEYS},
    }
    atomic_write_bytes(
        os.path.join(data_dir, f"{name}.json"),
        lambda f: f.write(json.dumps(manifest, indent=2).encode()),
    )
    return manifest


def read_prepared(name, data_dir):
    """Reads `<data_dir>/<name>.npz`, verified against its manifest; None if absent."""
    npz_path = os.path.join(data_dir, f"{name}.npz")
    manifest_path = os.path.join(data_dir, f"{name}.json")
    if not os.path.exists(npz_path):
        return None
    fix = f"Delete {npz_path} and run `keras-seminar data prepare {name}` again."
    try:
        with open(manifest_path) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        raise DataError(f"{npz_path} has no readable manifest {manifest_path} ({e}). {fix}") from e
    try:
        with np.load(npz_path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ARRAY_KEYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{npz_path} is corrupted or truncated ({e}). {fix}") from e
    if arrays_digest(arrays) != manifest.get("arrays_sha256"):
        raise DataError(f"{npz_path} does not match the sha256 in its manifest. {fix}")
    return arrays
