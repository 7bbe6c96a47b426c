"""Saving and loading models safely: `.keras` only, atomic writes, sha256 model cards, safe_mode.

A saved model is `NAME.keras` plus `NAME.json`, its model card (architecture, parameter
count, data, recipe, metrics, command, backend, versions and the file's sha256).
"""

import json
import os
import platform
import sys
import zipfile

import keras

from keras_seminar.datasets._cache import atomic_write_bytes, file_sha256


class ModelFileError(ValueError):
    """A model file is missing, corrupted, unsafe, or does not match its card."""


def card_path(model_path):
    return os.path.splitext(model_path)[0] + ".json"


def environment():
    """Backend and versions, recorded beside every result."""
    import importlib

    import numpy

    from keras_seminar.backend import device_description

    backend = keras.backend.backend()
    return {"backend": backend, "backend_version": importlib.import_module(backend).__version__,
            "device": device_description(), "keras": keras.__version__,
            "numpy": numpy.__version__, "python": platform.python_version(),
            "platform": platform.platform(), "command": " ".join(sys.argv)}


def save_model(model, path, card=None, include_optimizer=True):
    """Saves `model` to `path` (.keras) and its card, so that a kill at any instant is safe.

    Order: the model goes to a temporary file; the card (new sha256, plus the sha256 of the
    file being replaced) is written atomically; then the model file is renamed into place.
    A kill before the rename leaves the old file, which the card still accepts as
    `previous_sha256`; after it, file and card agree. `include_optimizer=False` saves an
    uncompiled copy (about a third of the size for Adam); compile it again to train on.
    """
    if not str(path).endswith(".keras"):
        raise ValueError(f"Expected a path ending in .keras. Received: path={path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.partial.keras")
    if not include_optimizer and model.optimizer is not None:
        # keras.models.clone_model keeps the compiled optimizer; from_config does not.
        clone = type(model).from_config(model.get_config())
        clone.set_weights(model.get_weights())
        model = clone
    model.save(tmp)
    card = dict(card or {})
    card.update({"file": os.path.basename(path), "sha256": file_sha256(tmp),
                 "previous_sha256": file_sha256(path) if os.path.exists(path) else None,
                 "parameters": int(model.count_params())})
    card.setdefault("environment", environment())
    atomic_write_bytes(card_path(path), lambda f: f.write(json.dumps(card, indent=2).encode()))
    os.replace(tmp, path)
    return card


def read_card(path):
    p = card_path(path)
    if not os.path.exists(p):
        return None
    try:
        with open(p) as f:
            return json.load(f)
    except ValueError as e:
        raise ModelFileError(f"The model card {p} is not valid JSON ({e}).") from e


def load_model(path, verify="auto", compile=True):
    """Loads a `.keras` file with `safe_mode=True`, checking its card's sha256 first.

    Args:
        path: a `.keras` file.
        verify: True requires a card and a matching sha256; "auto" checks when a card
            exists; False skips the check.
    """
    import keras_seminar  # noqa: F401  (registers the package's layers and regularizers)

    path = str(path)
    if not path.endswith(".keras"):
        raise ModelFileError(
            f"Only .keras files are loaded. Received: {path!r} (legacy .h5 / SavedModel formats "
            "can run code or lose custom objects; re-save the model with model.save('x.keras')).")
    if not os.path.isfile(path):
        raise ModelFileError(f"No model file at {path!r}.")
    card = read_card(path) if verify else None
    if verify is True and card is None:
        raise ModelFileError(f"{path} has no model card {card_path(path)} to verify it against.")
    if card is not None:
        digest = file_sha256(path)
        if digest not in (card.get("sha256"), card.get("previous_sha256")):
            raise ModelFileError(
                f"{path} has sha256 {digest}, but its card says {card.get('sha256')}. The file is "
                "corrupted or was changed; re-download or re-train it.")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a .keras zip archive: it is corrupted or truncated.")
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except ValueError as e:
        if "Lambda" in str(e) or "safe_mode" in str(e):
            raise ModelFileError(
                f"{path} holds a Lambda layer (arbitrary code), refused under safe_mode. "
                "Rebuild the model with registered layers instead of Lambda.") from e
        raise ModelFileError(f"Could not load {path}: {e}") from e
    except Exception as e:  # noqa: BLE001 - zip/h5 errors come in many types
        raise ModelFileError(f"Could not load {path} (corrupted or truncated?): {e}") from e
