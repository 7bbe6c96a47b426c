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


def save_model(model, path, card=None, include_optimizer=True):
    """Saves `model` to `path` (.keras) and its card, so that a kill at any instant is safe.

    Order: leftovers of killed saves are removed; the model goes to a unique temporary file;
    the card (new sha256, plus the sha256 of the file being replaced) is written atomically;
    then the model file is renamed into place. A kill before the rename leaves the old file,
    which the card still accepts as `previous_sha256`; after it, file and card agree.
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
    _clean_leftovers(folder)
    if not include_optimizer and getattr(model, "optimizer", None) is not None:
        # keras.models.clone_model keeps the compiled optimizer; from_config does not.
        clone = type(model).from_config(model.get_config())
        clone.set_weights(model.get_weights())
        model = clone
    card = dict(card or {})
    with _io.atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
        card.update({"file": os.path.basename(path), "sha256": _io.sha256_file(tmp),
                     "previous_sha256": _io.sha256_file(path) if os.path.exists(path) else None,
                     "parameters": int(model.count_params())})
        card.setdefault("environment", environment())
        _io.atomic_write_json(card_path(path), card)  # the card first, then the rename
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
    TFSMLayer) before Keras opens it; the model card and its sha256; then Keras's own
    `safe_mode=True` load. The card protects against accidents (truncation, a swapped file),
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
    if not os.path.isfile(path):
        raise ModelFileError(f"No model file at {path!r}.")
    config = archive.inspect_model_file(path, max_bytes=max_bytes)
    card = read_card(path)
    if card is None and require_card:
        raise ModelFileError(
            f"{path} has no model card {card_path(path)} to verify it against. Put the card "
            "beside it, or load with require_card=False (CLI: evaluate --no-card) to skip checks.")
    if card is None:
        warnings.warn(f"{path} has no model card: loaded without any sha256 check.", stacklevel=2)
    else:
        check_card_digest(path, card, _io.sha256_file(path))
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
