"""A BackupAndRestore whose every write is atomic and which never backs up non-finite weights."""

import glob
import json
import math
import os
import time

import numpy as np

from keras_seminar import _io
from keras_seminar.callbacks.hooks import TrainingCallback
from keras_seminar.errors import RunConflict

__all__ = ["AtomicBackupAndRestore", "read_state"]


def _finite(model, logs):
    if any(isinstance(v, (int, float)) and not math.isfinite(v) for v in (logs or {}).values()):
        return False
    return all(np.all(np.isfinite(np.asarray(w, dtype=np.float64)))
               for w in model.get_weights() if np.asarray(w).dtype.kind == "f")


class AtomicBackupAndRestore(TrainingCallback):
    """Saves weights + optimizer state every epoch; a restarted `fit` resumes from it.

    Keras's `BackupAndRestore` writes the weights and the epoch counter as two files in
    place, so a kill between (or during) the writes leaves them out of step. Here each
    epoch's weights go to a new file (temporary name + `os.replace`), and only then is the
    small `state.json` that points at it replaced, atomically. A kill at any instant leaves
    a consistent pair: the old one or the new one.

    An epoch whose logs or weights are not finite is never backed up (Keras still calls
    `on_epoch_end` after a NaN stopped training): the backup keeps the last finite epoch, and
    its `rollback_note()` hook says which. `state.json` also keeps the whole per-epoch history, the
    summed training seconds of every resumed part, and `plan` (the caller's record of what is
    being trained, checked before resuming).

    Args:
        backup_dir: folder for the backup; kept after training so a finished run is not
            trained again (delete it to start over).
        plan: JSON-able record stored with every epoch (e.g. `Plan.record()`), or None.

    Example:
        >>> model.fit(x, y, epochs=10, callbacks=[AtomicBackupAndRestore("runs/a/backup")])
    """

    def __init__(self, backup_dir, plan=None):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not str(backup_dir):
            raise ValueError(f"Expected a backup_dir. Received: backup_dir={backup_dir!r}")
        self.backup_dir = str(backup_dir)
        self.plan = plan
        self.state_path = os.path.join(self.backup_dir, "state.json")
        self.history, self.skipped_epoch, self.restored_epoch = {}, None, 0

    def read_state(self):
        """The last backed-up state, or None; `RunConflict` naming the file if it is unreadable."""
        return read_state(self.state_path)

    def on_train_begin(self, logs=None):
        _io.clean_stale(self.backup_dir)
        state = self.read_state()
        self.history, self.skipped_epoch = {}, None
        self.restored_epoch, self._base_seconds = 0, 0.0
        self._start = time.perf_counter()
        if state is None:
            return
        if not self.model.built:
            raise ValueError("The model must be built before fit() to resume from a backup.")
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        weights = os.path.join(self.backup_dir, str(state["weights"]))
        try:
            self.model.load_weights(weights)
        except (ValueError, KeyError, OSError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise RunConflict(f"{weights} does not fit this model ({first[:120]}); resume it with "
                              "its own model and options, or use resume=False or another "
                              "run_name.") from None
        if not _finite(self.model, state.get("logs")):
            raise RunConflict(f"{self.backup_dir} holds non-finite weights (epoch {state['epoch']} "
                              "of a diverged run); resuming would save a broken model. Use "
                              "resume=False to start over, or another run_name.")
        self.history = {k: list(vs) for k, vs in (state.get("history") or {}).items()}
        self._base_seconds = float(state.get("train_seconds") or 0.0)
        self.restored_epoch = int(state["epoch"])
        self.model._initial_epoch = self.restored_epoch

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items()}
        if not _finite(self.model, logs):
            self.skipped_epoch = epoch + 1
            return
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)
        os.makedirs(self.backup_dir, exist_ok=True)
        weights = f"epoch-{epoch + 1:05d}.weights.h5"
        with _io.atomic_path(os.path.join(self.backup_dir, weights), ".weights.h5") as tmp:
            self.model.save_weights(tmp, overwrite=True)
        seconds = self._base_seconds + time.perf_counter() - self._start
        state = {"epoch": epoch + 1, "weights": weights, "logs": logs, "history": self.history,
                 "train_seconds": round(seconds, 3), "plan": self.plan}
        _io.atomic_write_json(self.state_path, state)
        for old in glob.glob(os.path.join(self.backup_dir, "epoch-*.weights.h5")):
            if os.path.basename(old) != weights:
                os.remove(old)

    def rollback_note(self):
        """Where a diverged fit left its backup, for the error message ("" if nothing to say)."""
        if self.skipped_epoch is None:
            return ""
        state = self.read_state()
        if state is None:
            return f"; no finite epoch was backed up in {self.backup_dir}"
        return (f"; {self.backup_dir} keeps epoch {state['epoch']}, the last finite one (the same "
                "command resumes from it)")


def read_state(state_path):
    """`state.json` of a backup as a dict, None when absent; `RunConflict` naming the file and
    the fix when it is not a backup state."""
    if not os.path.exists(state_path):
        return None
    try:
        with open(state_path) as f:
            state = json.load(f)
        if not isinstance(state, dict) or not isinstance(state.get("epoch"), int) or \
                not isinstance(state.get("weights"), str):
            raise ValueError("not a backup state")
    except (ValueError, UnicodeDecodeError) as e:
        folder = os.path.dirname(state_path)
        raise RunConflict(f"{state_path} is corrupted ({type(e).__name__}: {str(e)[:80]}); use "
                          f"resume=False to start over (or delete {folder}).") from None
    _check_confined(state_path, state["weights"])
    return state


def _check_confined(state_path, name):
    """Refuses a `weights` entry that is not a file inside the backup's own folder: a path
    (absolute, `../`, `a/b`) or a symlink that leads out. The backup writes bare file names."""
    folder = os.path.dirname(os.path.abspath(state_path))
    inside = name not in ("", ".", "..") and "\0" not in name and os.path.basename(name) == name
    if inside:
        target = os.path.realpath(os.path.join(folder, name))
        inside = os.path.dirname(target) == os.path.realpath(folder)
    if not inside:
        raise RunConflict(f"{state_path} points its weights at {name!r}, outside {folder}; no run "
                          f"resumes from it. Use resume=False to start over (or delete {folder}).")
