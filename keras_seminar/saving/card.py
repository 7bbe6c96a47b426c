"""Model cards: where they live, how they are read and checked, and compiling a model from one."""

import json
import os
import re

from keras_seminar.errors import UnsafeFileError, UsageError

__all__ = ["card_path", "check_card_digest", "compile_from_card", "MAX_CARD_BYTES",
           "ModelFileError", "read_card", "saved_backend", "UnsafeModelFileError"]

MAX_CARD_BYTES = 4 << 20  # a card is a few KB; anything this big is not one
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ModelFileError(UsageError):
    """A model file or its card is missing, corrupted, unsafe, or the two disagree."""


class UnsafeModelFileError(ModelFileError, UnsafeFileError):
    """A model file refused before Keras opens it: unexpected members, too big, refused config."""


def card_path(model_path):
    """`NAME.json` beside `NAME.keras`."""
    return os.path.splitext(str(model_path))[0] + ".json"


def _fix(p):
    return (f"Restore {p} from where the model came from, or re-save the model with "
            "keras_seminar.saving.save_model (require_card=False loads without it, unchecked).")


def read_card(path):
    """The card of model file `path` as a dict, or None when there is none.

    Raises:
        ModelFileError: the card is unreadable, too big, not JSON, or not a JSON object.
    """
    p = card_path(path)
    if not os.path.exists(p):
        return None
    try:
        if os.path.getsize(p) > MAX_CARD_BYTES:
            raise ModelFileError(f"The model card {p} is over {MAX_CARD_BYTES} bytes; it is not "
                                 f"a model card. {_fix(p)}")
        with open(p, encoding="utf-8") as f:
            card = json.load(f)
    except (OSError, ValueError, RecursionError) as e:
        if isinstance(e, ModelFileError):
            raise
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ModelFileError(f"The model card {p} is not readable JSON ({reason}). {_fix(p)}") from e
    if not isinstance(card, dict):
        raise ModelFileError(f"The model card {p} holds {json.dumps(card)[:40]}, not a JSON object "
                             f"with the file's sha256. {_fix(p)}")
    return card


def check_card_digest(path, card, digest):
    """Raises unless `digest` is the card's sha256: a card describes exactly one file."""
    p = card_path(path)
    sha = card.get("sha256")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise ModelFileError(f"The model card {p} has no valid sha256 (sha256={sha!r}). {_fix(p)}")
    if digest != sha:
        # Cards written before the save was made kill-safe also named the file they replaced.
        older = " (it is the older model this card's save replaced)" \
            if digest == card.get("previous_sha256") else ""
        raise ModelFileError(
            f"{path} has sha256 {digest}, but its card {p} says {sha}{older}: the file was "
            "replaced, changed or corrupted, or its save was interrupted, and the card's numbers "
            "do not describe it. Re-run the command that saved it (the same `keras-seminar "
            "train` finishes an interrupted save), or restore the file the card was written for.")


def saved_backend(card):
    """The backend the card says the file was saved under, or None."""
    env = card.get("environment") if isinstance(card, dict) else None
    backend = env.get("backend") if isinstance(env, dict) else None
    return backend if isinstance(backend, str) else None


def compile_from_card(model, card):
    """Compiles `model` as its card's recipe trained it: the package's sparse cross-entropy with
    the recipe's label smoothing, the accuracy metric, and a fresh optimizer of the recipe's kind
    at its base learning rate (constant; compile again for a schedule). Returns False, leaving
    the model as it is, when the card has no recipe."""
    from keras_seminar.losses import SparseCategoricalCrossentropy
    from keras_seminar.optimizers import optimizer_for

    recipe = card.get("recipe") if isinstance(card, dict) else None
    if not isinstance(recipe, dict):
        return False
    # The recipe's base learning rate, constant: a schedule's length belongs to the fine-tuning run.
    try:
        optimizer = optimizer_for(recipe.get("optimizer", "adam"),
                                  float(recipe.get("learning_rate") or 1e-3),
                                  weight_decay=float(recipe.get("weight_decay") or 0.0))
    except (TypeError, ValueError) as e:
        raise ModelFileError(f"The recipe in a model card cannot be compiled ({e}); load with "
                             "compile=False and compile the model yourself.") from e
    loss = SparseCategoricalCrossentropy(label_smoothing=float(recipe.get("label_smoothing") or 0))
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return True
