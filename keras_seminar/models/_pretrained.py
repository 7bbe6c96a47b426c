"""Shipped models by name, the keras-hub / `keras.applications(weights=...)` way.

`pretrained(name, dataset)` returns the compiled model that the project trained and ships as
`<name>_<dataset>.keras` plus its model card `<name>_<dataset>.json`. It looks, in order, in:

1. a checkout's `saved_models/` (the folder beside the package source of a clone or an
   editable install; a wheel installed into site-packages has none);
2. the cache `$KERAS_HOME/keras_seminar/` (Keras's convention: `$KERAS_HOME` defaults to
   `~/.keras`);
3. a download with `keras.utils.get_file` from the base URL in `$KERAS_SEMINAR_WEIGHTS_URL`
   (default `DEFAULT_WEIGHTS_URL`, the project's release assets): the card first, then the model,
   whose sha256 must equal the card's before anything is cached or loaded. A mismatch raises a
   one-line `ModelFileError` and leaves nothing in the cache.

Loading goes through `keras_seminar.saving.load_model` (archive checks, card sha256 again,
Keras's `safe_mode=True`).

Example:
    >>> from keras_seminar.models import pretrained
    >>> model = pretrained("fast_cnn", "fashion_mnist")   # compiled, ready to evaluate
    >>> model.evaluate(x_test, y_test)
"""

import contextlib
import os
import sys
import tempfile

from keras_seminar import __version__, _io
from keras_seminar import _validators as v
from keras_seminar.datasets import DATASETS
from keras_seminar.models._shipped import SHIPPED
from keras_seminar.models.registry import available
from keras_seminar.saving.card import ModelFileError, check_card_digest, read_card

__all__ = ["DEFAULT_WEIGHTS_URL", "cache_dir", "cards_in", "checkout_dir", "find", "pretrained",
           "pretrained_path", "shipped", "split_name", "weights_url"]

# The default base URL: the assets of the project's GitHub release of this version.
DEFAULT_WEIGHTS_URL = (f"https://github.com/keras-seminar/keras-seminar/releases/download/"
                       f"v{__version__}")


def checkout_dir():
    """`saved_models/` of the checkout this package runs from, or None (e.g. a wheel's install)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    folder = os.path.join(root, "saved_models")
    is_checkout = os.path.isfile(os.path.join(root, "setup.cfg"))
    return folder if is_checkout and os.path.isdir(folder) else None


def cache_dir():
    """`$KERAS_HOME/keras_seminar` (`~/.keras/keras_seminar` when `KERAS_HOME` is unset)."""
    from keras_seminar.datasets._cache import keras_cache_dir  # $KERAS_HOME/datasets

    return os.path.join(os.path.dirname(keras_cache_dir()), "keras_seminar")


def weights_url():
    """The base URL downloads come from: `$KERAS_SEMINAR_WEIGHTS_URL`, else the default."""
    return (os.environ.get("KERAS_SEMINAR_WEIGHTS_URL") or DEFAULT_WEIGHTS_URL).rstrip("/")


def _check(name, dataset):
    return (v.check_choice("model name", name, available()),
            v.check_choice("dataset", dataset, DATASETS))


def split_name(stem):
    """`"fast_cnn_fashion_mnist"` -> `("fast_cnn", "fashion_mnist")`.

    Raises:
        ModelFileError: `stem` is not `<model>_<dataset>` of a known model and data set.
    """
    for dataset in sorted(DATASETS, key=len, reverse=True):  # fashion_mnist before mnist
        model = stem[:-len(dataset) - 1] if stem.endswith("_" + dataset) else None
        if model in available():
            return model, dataset
    raise ModelFileError(f"Expected a model file (.keras) or a shipped model's name "
                         f"<model>_<dataset>, e.g. fast_cnn_fashion_mnist. Received: {stem!r}")


def find(name, dataset):
    """The local `.keras` path of a shipped model (checkout, then cache), or None."""
    name, dataset = _check(name, dataset)
    for folder in (checkout_dir(), cache_dir()):
        path = os.path.join(folder, f"{name}_{dataset}.keras") if folder else None
        if path and os.path.isfile(path) and os.path.isfile(os.path.splitext(path)[0] + ".json"):
            return path
    return None


def _get(url, folder):
    """`keras.utils.get_file(url)` into `folder`; its messages go to stderr (stdout is the
    CLI's JSON). Raises a one-line `ModelFileError` when the download fails."""
    import keras

    try:
        with contextlib.redirect_stdout(sys.stderr):
            return keras.utils.get_file(url.rsplit("/", 1)[1], url, cache_dir=folder,
                                        cache_subdir="")
    except Exception as e:  # noqa: BLE001 - get_file raises a bare Exception on HTTP errors
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ModelFileError(f"Could not download {url} ({reason}). Set "
                             "$KERAS_SEMINAR_WEIGHTS_URL to a folder that holds it, or put "
                             f"the files in {cache_dir()}.") from e


def _download(name, dataset):
    """Downloads the card, then the model; caches both only when the model's sha256 is the card's."""
    stem, base, cache = f"{name}_{dataset}", weights_url(), cache_dir()
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as tmp:
        card_file = _get(f"{base}/{stem}.json", tmp)
        model_file = _get(f"{base}/{stem}.keras", tmp)
        card = read_card(model_file)
        try:  # the URL in the message: the temporary file means nothing to the user
            check_card_digest(f"{base}/{stem}.keras", card, _io.sha256_file(model_file))
        except ModelFileError as e:
            raise ModelFileError(f"Refused the download, nothing was cached: {e}") from None
        path = os.path.join(cache, f"{stem}.keras")
        os.replace(model_file, path)  # the model first: `find` wants both files
        os.replace(card_file, os.path.splitext(path)[0] + ".json")
    return path


def pretrained_path(name, dataset):
    """The local path of shipped model `name` trained on `dataset`, downloaded when needed.

    Args:
        name: a model name (`keras_seminar.models.available()`).
        dataset: "mnist" or "fashion_mnist".

    Raises:
        ModelFileError: no such shipped model, the download failed, or its sha256 is not the card's.
    """
    return find(name, dataset) or _download(*_check(name, dataset))


def pretrained(name, dataset, compile=True):
    """The shipped model `name` trained on `dataset`, compiled (from its card when saved slim).

    Looked up in a checkout's `saved_models/`, then `$KERAS_HOME/keras_seminar/`, then downloaded
    from `$KERAS_SEMINAR_WEIGHTS_URL` (default `DEFAULT_WEIGHTS_URL`) with its card's sha256
    checked before it is cached; loaded with `safe_mode=True`.

    Args:
        name: a model name, e.g. "fast_cnn" (`keras-seminar models` lists which have weights).
        dataset: "mnist" or "fashion_mnist".
        compile: False returns the model uncompiled.

    Example:
        >>> model = pretrained("lenet5", "mnist")
        >>> model.evaluate(x_test, y_test)
    """
    from keras_seminar.saving import load_model

    return load_model(pretrained_path(name, dataset), compile=compile)


def shipped():
    """`{(name, dataset): test accuracy}` of every shipped model: the release's list, updated by
    the cards found locally (checkout, cache)."""
    result = {split_name(stem): accuracy for stem, accuracy in SHIPPED.items()}
    for folder in (checkout_dir(), cache_dir()):
        for stem, accuracy in (cards_in(folder) if folder else {}).items():
            with contextlib.suppress(ModelFileError):
                result[split_name(stem)] = accuracy
    return result


def cards_in(folder):
    """`{stem: test accuracy}` of the model cards in `folder` that sit beside their `.keras` file."""
    found = {}
    for file in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
        stem, ext = os.path.splitext(file)
        if ext == ".keras" and os.path.isfile(os.path.join(folder, stem + ".json")):
            try:
                test = (read_card(os.path.join(folder, file)) or {}).get("test")
            except ModelFileError:
                continue
            found[stem] = test.get("accuracy") if isinstance(test, dict) else None
    return found
