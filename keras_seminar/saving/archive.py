"""Inspecting a `.keras` zip before Keras opens it: members, sizes, and refused configs.

Keras 3 writes exactly three members (`metadata.json`, `config.json`, `model.weights.h5`),
stored uncompressed, so a genuine file unpacks to about its own size. Keras caps each member,
not the total, so a small archive of many huge zero-filled members would fill the temp folder
before Keras looked at the config; these checks run first and read no member but config.json.
"""

import json
import os
import zipfile

from keras_seminar.saving.card import ModelFileError, UnsafeModelFileError

__all__ = ["EXPANSION_ALLOWANCE", "inspect_model_file", "MAX_CONFIG_BYTES", "MAX_EXPANSION",
           "MAX_MODEL_BYTES", "max_model_bytes", "MEMBERS", "REFUSED", "refused_class"]

MEMBERS = ("config.json", "metadata.json", "model.weights.h5")  # what keras 3 saves; no assets/
MAX_CONFIG_BYTES = 16 << 20  # ResNet-20's config is 70 KB
# The total a model file may unpack to: at most MAX_EXPANSION x its size + EXPANSION_ALLOWANCE
# (Keras stores members uncompressed, ratio ~1), and never more than MAX_MODEL_BYTES, which
# $KERAS_SEMINAR_MAX_MODEL_BYTES or load_model(max_bytes=...) changes.
MAX_MODEL_BYTES = 2 << 30
MAX_EXPANSION = 4
EXPANSION_ALLOWANCE = 16 << 20
# Classes safe_mode refuses, and what each would do if it were loaded.
REFUSED = {
    "Lambda": ("a Lambda layer", "arbitrary Python code",
               "Rebuild the model with registered layers instead of Lambda"),
    "TFSMLayer": ("a TFSMLayer layer", "it loads an external SavedModel that can run code",
                  "Rebuild the model from Keras layers and save that"),
    "__lambda__": ("a Python lambda", "arbitrary Python code",
                   "Use a named, registered function instead of a lambda"),
}


def max_model_bytes(max_bytes=None):
    """The absolute cap: `max_bytes`, else $KERAS_SEMINAR_MAX_MODEL_BYTES, else 2 GiB."""
    if max_bytes is None:
        env = os.environ.get("KERAS_SEMINAR_MAX_MODEL_BYTES")
        try:
            max_bytes = int(env) if env else MAX_MODEL_BYTES
        except ValueError:
            raise ModelFileError(f"Expected $KERAS_SEMINAR_MAX_MODEL_BYTES to be a number of "
                                 f"bytes. Received: {env!r}") from None
    return max_bytes


def _class_names(config):
    """Every `class_name` in a JSON tree, walked without recursion (hostile nesting is deep)."""
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            name = node.get("class_name")
            if isinstance(name, str):
                yield name
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def refused_class(config):
    """The first class in `config` that safe_mode refuses, or None."""
    return next((n for n in _class_names(config) if n in REFUSED), None)


def inspect_model_file(path, max_bytes=None):
    """Checks a `.keras` archive without unpacking it; returns its parsed config.json.

    Raises:
        UnsafeModelFileError: a member Keras does not write, a total uncompressed size over
            the cap, an oversized config.json, or a class safe_mode refuses.
        ModelFileError: not a zip, or a member is missing (corrupted or truncated).
    """
    cap = max_model_bytes(max_bytes)
    size = os.path.getsize(path)
    corrupt = f"{path} is not a complete .keras zip archive: it is corrupted or truncated; " \
              "re-download or re-save it."
    if not zipfile.is_zipfile(path):
        raise ModelFileError(corrupt)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            extra = sorted(set(names) - set(MEMBERS))
            if extra or len(names) != len(set(names)):
                shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3
                                                else "") if extra else "duplicated members"
                raise UnsafeModelFileError(
                    f"{path} holds {shown}, which a Keras model file does not have (only "
                    f"{', '.join(MEMBERS)}); refused before unpacking. Re-save the model with "
                    "model.save('x.keras').")
            if "config.json" not in names or "model.weights.h5" not in names:
                raise ModelFileError(corrupt)
            total = sum(i.file_size for i in infos)
            limit = min(cap, MAX_EXPANSION * size + EXPANSION_ALLOWANCE)
            if total > limit:
                raise UnsafeModelFileError(
                    f"{path} would unpack to {total} bytes from {size} on disk, over the cap of "
                    f"{limit} bytes ({MAX_EXPANSION}x its size + {EXPANSION_ALLOWANCE}, at most "
                    f"{cap}); refused before unpacking. If the file is genuine and trusted, "
                    "raise $KERAS_SEMINAR_MAX_MODEL_BYTES or pass max_bytes.")
            info = zf.getinfo("config.json")
            if info.file_size > MAX_CONFIG_BYTES:
                raise UnsafeModelFileError(
                    f"{path} holds a config.json of {info.file_size} bytes, over the "
                    f"{MAX_CONFIG_BYTES}-byte cap; refused before reading. Re-save the model.")
            with zf.open(info) as f:  # zipfile stops at the declared size
                config = json.loads(f.read(MAX_CONFIG_BYTES + 1))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RecursionError) as e:
        if isinstance(e, ModelFileError):
            raise
        raise ModelFileError(corrupt) from e
    name = refused_class(config)
    if name is not None:
        what, risk, fix = REFUSED[name]
        raise UnsafeModelFileError(f"{path} holds {what} ({risk}), which safe_mode refuses. "
                                   f"{fix}.")
    return config
