"""Reading the IDX format of LeCun et al. (MNIST, Fashion-MNIST), with every header checked."""

import gzip
import zlib

import numpy as np

from keras_seminar.datasets._errors import DataError

_UBYTE = 0x08


def read_idx(path, expected_shape):
    """Reads one gzipped IDX file of unsigned bytes.

    Args:
        path: path to a `*-ubyte.gz` file.
        expected_shape: the shape the file must hold, e.g. `(60000, 28, 28)`.

    Returns:
        A `uint8` NumPy array of `expected_shape`.

    Raises:
        DataError: the file is not gzip, is truncated, or its header disagrees.
    """
    try:
        with gzip.open(path, "rb") as f:  # never more than the expected size + 1 byte
            raw = f.read(4 + 4 * len(expected_shape) + int(np.prod(expected_shape)) + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(
            f"Could not decompress {path}: {e}. The file is corrupted or truncated; replace it "
            "with an intact copy."
        ) from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _UBYTE:
        raise DataError(
            f"{path} is not an IDX file of unsigned bytes (magic {raw[:4].hex() or 'empty'}). "
            "Expected magic 0x0000080N."
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if dims != tuple(expected_shape):
        raise DataError(f"{path} holds shape {dims}. Expected {tuple(expected_shape)}.")
    n = int(np.prod(dims))
    if len(raw) != header + n:
        raise DataError(
            f"{path} has {len(raw) - header} bytes of data. Expected {n}; the file is truncated "
            "or has trailing garbage."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()
