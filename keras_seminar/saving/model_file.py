"""`save_model` and `load_model`: the kill-safe save and the checked, card-compiled load."""

import contextlib
import glob
import os
import re
import time
import warnings

import keras

from keras_seminar import _io
from keras_seminar._provenance import environment
from keras_seminar.saving import archive
from keras_seminar.saving.card import (
    ModelFileError,
    UnsafeModelFileError,
    card_path,
    check_card_digest,
    compile_from_card,
    read_card,
    saved_backend,
)

__all__ = ["LEGACY_MIN_AGE_S", "LEGACY_TEMP", "load_model", "pending_path", "save_model"]

_BACKEND_MODULE = re.compile(r"^keras\.src\.backend\.(jax|numpy|openvino|tensorflow|torch)\.")
LEGACY_TEMP = ".*.partial.keras"  # the fixed temp name of saves before _io existed
LEGACY_MIN_AGE_S = 60.0


def _clean_leftovers(folder):
    """Removes temp files of killed saves: dead writers' `_io` temps and old `.partial.keras`."""
    _io.clean_stale(folder)
    for old in glob.glob(os.path.join(folder, LEGACY_TEMP)):
        with contextlib.suppress(OSError):
            if time.time() - os.path.getmtime(old) >= LEGACY_MIN_AGE_S:
                os.remove(old)


def pending_path(path):
    """`.NAME.keras.pending` beside `NAME.keras`: a save's model between its card and its rename."""
    folder, base = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{base}.pending")


def _finish_interrupted_save(path, card):
    """Completes a save killed after writing its card but before moving the model into place:
    when the pending file holds the card's sha256, it is moved to `path` (a journal rolled
    forward, as SQLite does with a hot journal when it opens a database). Returns whether it
    moved one; a pending file of any other sha256 (a save killed before its card) is left."""
    pending, sha = pending_path(path), card.get("sha256") if isinstance(card, dict) else None
    if not os.path.isfile(pending) or _io.sha256_file(pending) != sha:
        return False
    try:
        os.replace(pending, path)
    except FileNotFoundError:  # another process finished it first
        pass
    except OSError as e:
        raise ModelFileError(f"{path} does not match its card {card_path(path)}: its save was "
                             f"interrupted, and moving {pending}, the card's model, into place "
                             f"failed ({e}); move it there yourself, or re-run the save.") from e
    return True


def save_model(model, path, card=None, include_optimizer=True):
    """Saves `model` to `path` (.keras) and its card, so that a kill at any instant is safe.

    Order: a save interrupted before is finished, and leftovers of killed saves removed; the
    model goes to the pending file `.NAME.keras.pending` (written under a temporary name and
    renamed, so it is always whole); the card, with the pending file's sha256, is written
    atomically; then the pending file is renamed to `path`. A kill before the card leaves the
    old model and card; after it, the card's own model is in the pending file, and `load_model`
    (or the next save) moves it into place. Either way the card describes exactly the file
    loaded: a file of any other sha256 is refused.
    `include_optimizer=False` saves an uncompiled copy (about a third of the size for Adam);
    `load_model` compiles it again from its card's recipe.

    Returns:
        The card written (a dict).
    """
    if not str(path).endswith(".keras"):
        raise ValueError(f"Expected a path ending in .keras. Received: path={path!r}")
    path = str(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with contextlib.suppress(ModelFileError):  # an unreadable card is about to be replaced
        _finish_interrupted_save(path, read_card(path))
    _clean_leftovers(folder)
    if not include_optimizer and getattr(model, "optimizer", None) is not None:
        # keras.models.clone_model keeps the compiled optimizer; from_config does not.
        clone = type(model).from_config(model.get_config())
        clone.set_weights(model.get_weights())
        model = clone
    pending = pending_path(path)
    with _io.atomic_path(pending, suffix=".keras") as tmp:
        model.save(tmp)
    card = {**(card or {}), "file": os.path.basename(path), "sha256": _io.sha256_file(pending),
            "parameters": int(model.count_params())}
    card.pop("previous_sha256", None)  # a card describes one file
    card.setdefault("environment", environment())
    _io.atomic_write_json(card_path(path), card)  # the commit: the pending file is the card's
    try:
        os.replace(pending, path)
    except FileNotFoundError:  # a load_model finished this save first
        if _io.sha256_file(path) != card["sha256"]:
            raise
    return card


def _compiled_under(config):
    """The backend whose own classes (e.g. torch's optimizers) a compile config names, or None."""
    stack = [config.get("compile_config") if isinstance(config, dict) else None]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            match = _BACKEND_MODULE.match(str(node.get("module", "")))
            if match:
                return match.group(1)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def _keras_error(path, e):
    """A Keras loading error as one line that says what was refused or failed."""
    first = (str(e).strip().splitlines() or [type(e).__name__])[0]
    if "safe_mode" in str(e):
        return UnsafeModelFileError(f"{path} holds a config that safe_mode refuses: {first}")
    located = [line.strip() for line in str(e).splitlines() if "Could not locate" in line]
    if located:  # Keras nests it inside a longer "could not be deserialized" message
        return ModelFileError(f"{path} names a class this process does not know ({located[0]}); "
                              "import the package that registers it before loading.")
    return ModelFileError(f"Could not load {path} ({type(e).__name__}: {first}). The file is "
                          "corrupted or truncated, or another Keras wrote it; re-save it.")


def load_model(path, compile=True, require_card=True, verify=None, max_bytes=None):
    """Loads a `.keras` file safely and returns a model ready to evaluate and fine-tune.

    Checks, in order: `.keras` extension; the zip (only the members Keras writes, total
    uncompressed size capped, config.json bounded, no class safe_mode refuses such as Lambda or
    TFSMLayer) before Keras opens it; the model card and its sha256 (a save killed after
    writing its card is finished first: its pending model is moved into place, the only write
    a load makes); then Keras's own `safe_mode=True` load. The card protects against accidents (truncation, a swapped file),
    not against someone who can rewrite both files.

    Compiling: a file saved with its optimizer under this backend keeps it. A slim file, or one
    saved under another backend (its card says so, or its compile config names another
    backend's classes; Keras restores another backend's optimizer wrongly, e.g. torch ->
    TensorFlow), is loaded uncompiled (compile=False) and compiled from its card:
    loss with the recipe's label smoothing, accuracy, a fresh optimizer of the recipe's kind.

    Args:
        path: a `.keras` file.
        compile: False returns the model uncompiled.
        require_card: True (default) refuses a file without a valid card; False loads a file
            without one, with a warning that nothing was checked (a present card is checked).
        verify: the old name of `require_card` (True / False; "auto" means False).
        max_bytes: cap on the total uncompressed size (default 2 GiB or
            $KERAS_SEMINAR_MAX_MODEL_BYTES).

    Example:
        >>> model = load_model("saved_models/softmax_fashion_mnist.keras")
        >>> model.evaluate(x_test, y_test)
    """
    import keras_seminar  # noqa: F401  (registers the package's layers and regularizers)

    if verify is not None:
        require_card = verify is True
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ModelFileError(
            f"Only .keras files are loaded. Received: {path!r} (legacy .h5 / SavedModel formats "
            "can run code or lose custom objects; re-save the model with model.save('x.keras')).")
    card = read_card(path)
    digest = _io.sha256_file(path) if os.path.isfile(path) else None
    if card is not None and digest != card.get("sha256") and _finish_interrupted_save(path, card):
        digest = card["sha256"]
    if digest is None:
        raise ModelFileError(f"No model file at {path!r}.")
    config = archive.inspect_model_file(path, max_bytes=max_bytes)
    if card is None and require_card:
        raise ModelFileError(
            f"{path} has no model card {card_path(path)} to verify it against. Put the card "
            "beside it, or load with require_card=False (CLI: evaluate --no-card) to skip checks.")
    if card is None:
        warnings.warn(f"{path} has no model card: loaded without any sha256 check.", stacklevel=2)
    else:
        check_card_digest(path, card, digest)
    saved_under = saved_backend(card) or _compiled_under(config)
    other_backend = saved_under not in (None, keras.backend.backend())
    try:
        model = keras.saving.load_model(path, compile=compile and not other_backend,
                                        safe_mode=True)
    except Exception as e:  # noqa: BLE001 - zip / h5 / config errors come in many types
        raise _keras_error(path, e) from e
    if compile and not getattr(model, "compiled", False):
        if not compile_from_card(model, card) and other_backend:
            warnings.warn(f"{path} was saved under {saved_under} and has no card recipe to "
                          "compile from: loaded uncompiled; call model.compile() before fit.",
                          stacklevel=2)
    return model
