"""Where prepared data sets live, and how they are written and verified.

A prepared data set is `<data_dir>/<name>.npz` (uint8 images, uint8 labels) plus
`<data_dir>/<name>.json`, a manifest holding the sha256 of the arrays. Both are written with
`keras_seminar._io.atomic_write`, so an interrupted prepare never leaves a half-written file
behind, and the next prepare removes a killed one's temp files. An `.npz` is a zip: its members'
uncompressed sizes are checked before NumPy reads them (`read_npz`).
"""

import contextlib
import glob
import hashlib
import json
import os
import time
import zipfile

import numpy as np

from keras_seminar import _io
from keras_seminar.datasets._errors import DataError

ENV_VAR = "KERAS_SEMINAR_DATA"
ARRAY_KEYS = ("x_train", "y_train", "x_test", "y_test")
# x_train is 60000 x 28 x 28 bytes = 45 MiB; a member that unpacks to more is not this data.
MAX_MEMBER_BYTES = 64 << 20
MAX_MANIFEST_BYTES = 1 << 20
LEGACY_TEMPS = ("*.npz.*.tmp", "*.json.*.tmp")  # tempfile names of prepares before _io existed


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


def clean_leftovers(data_dir, min_age_s=60.0):
    """Removes temp files that killed prepares left in `data_dir`."""
    _io.clean_stale(data_dir)
    for pattern in LEGACY_TEMPS:
        for old in glob.glob(os.path.join(data_dir, pattern)):
            with contextlib.suppress(OSError):
                if time.time() - os.path.getmtime(old) >= min_age_s:
                    os.remove(old)


def read_npz(path, keys=ARRAY_KEYS, fix="", max_member_bytes=MAX_MEMBER_BYTES):
    """The arrays `keys` of an `.npz`, each member's uncompressed size checked before reading."""
    try:
        with zipfile.ZipFile(path) as zf:
            sizes = {i.filename: i.file_size for i in zf.infolist()}
    except (OSError, zipfile.BadZipFile) as e:
        raise DataError(f"{path} is corrupted or truncated ({e}). {fix}".strip()) from e
    for key in keys:
        size = sizes.get(f"{key}.npy")
        if size is None:
            raise DataError(f"{path} has no array {key!r} (it holds {sorted(sizes)[:6]}). {fix}"
                            .strip())
        if size > max_member_bytes:
            raise DataError(f"{path}: {key} would unpack to {size} bytes, over the "
                            f"{max_member_bytes}-byte cap; refused before reading. {fix}".strip())
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in keys}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path} is corrupted or truncated ({e}). {fix}".strip()) from e


def write_prepared(name, arrays, data_dir, source):
    """Writes `<name>.npz` and its manifest atomically; returns the manifest."""
    digest = arrays_digest(arrays)
    npz_path = os.path.join(data_dir, f"{name}.npz")
    clean_leftovers(data_dir)
    _io.atomic_write(npz_path, lambda f: np.savez_compressed(f, **arrays))
    manifest = {
        "name": name,
        "source": source,
        "arrays_sha256": digest,
        "file_sha256": _io.sha256_file(npz_path),
        "shapes": {k: list(arrays[k].shape) for k in ARRAY_KEYS},
    }
    _io.atomic_write_json(os.path.join(data_dir, f"{name}.json"), manifest)
    return manifest


def read_prepared(name, data_dir):
    """Reads `<data_dir>/<name>.npz`, verified against its manifest; None if absent."""
    npz_path = os.path.join(data_dir, f"{name}.npz")
    manifest_path = os.path.join(data_dir, f"{name}.json")
    if not os.path.exists(npz_path):
        return None
    fix = f"Delete {npz_path} and run `keras-seminar data prepare {name}` again."
    try:
        if os.path.getsize(manifest_path) > MAX_MANIFEST_BYTES:
            raise ValueError(f"over {MAX_MANIFEST_BYTES} bytes, not a manifest")
        with open(manifest_path) as f:
            manifest = json.load(f)
    except (OSError, ValueError, RecursionError) as e:
        raise DataError(f"{npz_path} has no readable manifest {manifest_path} ({e}). {fix}") from e
    if not isinstance(manifest, dict):
        raise DataError(f"The manifest {manifest_path} holds {json.dumps(manifest)[:40]}, not a "
                        f"JSON object with the arrays' sha256. {fix}")
    arrays = read_npz(npz_path, fix=fix)
    if arrays_digest(arrays) != manifest.get("arrays_sha256"):
        raise DataError(f"{npz_path} does not match the sha256 in its manifest. {fix}")
    return arrays
