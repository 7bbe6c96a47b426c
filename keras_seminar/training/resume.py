"""What a run's folder already holds, and whether this command may go on from it.

Rules (`train` applies them under the run's lock):
- no backup: train from epoch 0;
- a backup whose recorded plan differs in what the weights depend on (model, data set, seed,
  split, limits, precision, recipe, options) is refused with one line naming the difference;
- a backup of more epochs than asked is refused (the weights are not those of a shorter run);
- asking for more epochs than the backup was planned for continues it only when the learning
  rate is constant: a decaying schedule over the new total would not match the epochs already
  trained, so that is refused rather than recorded as a run it was not;
- a finished run (all epochs, its metrics.json and model file intact, same evaluation
  settings) is reported as it is: nothing is trained or rewritten.
"""

import contextlib
import dataclasses
import glob
import json
import os

from keras_seminar import _io
from keras_seminar.callbacks.backup import read_state
from keras_seminar.errors import RunConflict

__all__ = ["check_resume", "clean_run_files", "FIX", "read_metrics", "Resume"]

FIX = "use resume=False to start over, or another run_name"


@dataclasses.dataclass(frozen=True)
class Resume:
    """`start_epoch` to train from, a `message` for the user, and `finished`: the stored
    result when nothing is left to do."""

    start_epoch: int = 0
    message: str | None = None
    finished: dict | None = None


def clean_run_files(plan):
    """Removes the temp files killed writers left in the run, backup and model folders: `_io`'s
    (dead owners only) and the fixed names older versions used (we hold the run's lock)."""
    folders = {plan.run_dir, plan.backup_dir, os.path.dirname(os.path.abspath(plan.model_path))}
    for folder in folders:
        _io.clean_stale(folder)
    old = glob.glob(os.path.join(plan.backup_dir, ".*.partial.*"))
    old += glob.glob(os.path.join(plan.backup_dir, "state.json.*.tmp"))
    old += glob.glob(os.path.join(plan.run_dir, "metrics.json.*.tmp"))
    base = os.path.basename(plan.model_path)
    old += glob.glob(os.path.join(os.path.dirname(plan.model_path), f".{base}.partial.keras"))
    for path in old:
        with contextlib.suppress(OSError):
            os.remove(path)


def _difference(stored, wanted, prefix=""):
    """The first key whose value differs, as `(name, stored, wanted)`, or None."""
    for key in sorted(set(stored) | set(wanted)):
        a, b = stored.get(key), wanted.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found = _difference(a, b, f"{prefix}{key}.")
            if found:
                return found
        elif a != b:
            return f"{prefix}{key}", a, b
    return None


def _jsonish(record):
    return json.loads(json.dumps(record))  # tuples -> lists, as stored


def read_metrics(run_dir):
    path = os.path.join(run_dir, "metrics.json")
    try:
        with open(path) as f:
            metrics = json.load(f)
    except (OSError, ValueError):
        return None
    return metrics if isinstance(metrics, dict) else None


def _finished(plan, record, epochs):
    """The stored result when the run is complete and its files are intact, else None."""
    metrics = read_metrics(plan.run_dir)
    if metrics is None or not isinstance(metrics.get("plan"), dict):
        return None
    if metrics.get("epochs") != epochs or not os.path.exists(plan.model_path):
        return None
    if metrics.get("sha256") != _io.sha256_file(plan.model_path):
        return None
    diff = _difference(metrics["plan"].get("evaluation") or {}, record["evaluation"])
    if diff:
        name, old, new = diff
        raise RunConflict(f"Run {plan.name!r} is finished and was evaluated with {name}={old!r}, "
                          f"not {new!r}; evaluate its model with `keras-seminar evaluate "
                          f"{plan.model_path}`, or {FIX}.")
    return {**metrics, "model_path": plan.model_path}  # the file just verified (a run folder
    # may have been moved or copied since)


def check_resume(plan):
    """Compares the run's backup with `plan`; returns a `Resume` or raises `RunConflict`."""
    state = read_state(os.path.join(plan.backup_dir, "state.json"))
    if state is None:
        return Resume()
    record, done, epochs = _jsonish(plan.record()), state["epoch"], plan.recipe.epochs
    stored = state.get("plan") if isinstance(state.get("plan"), dict) else None
    if stored is not None:
        diff = _difference(stored.get("training") or {}, record["training"])
        if diff:
            name, old, new = diff
            raise RunConflict(f"Run {plan.name!r} was trained with {name}={old!r}, but this "
                              f"command asks for {name}={new!r}; {FIX}.")
    if done > epochs:
        raise RunConflict(f"Run {plan.name!r} has already trained {done} epochs; this command "
                          f"asks for {epochs}. Ask for epochs={done} or more, or {FIX}.")
    planned = stored.get("epochs", epochs) if stored else epochs
    note = ""
    if planned != epochs:
        if plan.recipe.schedule != "constant":
            raise RunConflict(
                f"Run {plan.name!r} was trained under a {plan.recipe.schedule} schedule over "
                f"{planned} epochs; {epochs} epochs need that schedule from the first step, so "
                f"its {done} epochs cannot be extended; {FIX}.")
        note = f" (the run was planned for {planned}; the learning rate is constant)"
    if done == epochs:
        finished = _finished(plan, record, epochs)
        if finished is not None:
            return Resume(done, f"{plan.name} already finished {done} epochs: nothing was "
                                f"trained or rewritten ({plan.model_path})", finished)
    return Resume(done, f"resuming {plan.name} from epoch {done} of {epochs}{note}")
