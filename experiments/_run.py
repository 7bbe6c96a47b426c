"""Running an experiment: resolve and check its config, resume its runs, save results, render.

`run_experiment` writes every run's record to `<out>/<name>.partial.json` as it finishes, then
the report (`<out>/<name>.md` and PNGs) and `<out>/<name>.json`; `render` redraws the report
from either file without training. Every seed sets the train/validation split, the order of
the training data and the weights (`_runner`).
"""

import datetime
import os
import sys
import tempfile
import time

import keras
from keras_seminar.experiments import _config, _protocol, _results
from keras_seminar.experiments._report import Report

from keras_seminar import _io, saving
from keras_seminar.backend import device_description
from keras_seminar.errors import UsageError

SCALES = ("full", "smoke")
# How the training set is ordered across epochs: since 2026-12-04 every fit reshuffles each epoch
# on every backend (`backend.fit_reshuffled`); before, a seeded TensorFlow run replayed one
# permutation every epoch (tensorflow/tensorflow#26179), and its report says so (`_report`).
EPOCH_ORDER = "reshuffled each epoch"


def plan(name, scale="full", seeds=None, sets=(), config_file=None):
    """`(experiment, config, overrides, seeds)`: the config resolved once from the scale and the
    overrides, every field checked (type, item type, range) before anything trains."""
    if scale not in SCALES:
        raise UsageError(f"Unknown scale {scale!r}. Expected one of {SCALES}.")
    experiment = _protocol.get(name)
    if seeds is not None:
        sets = [*sets, f"seeds={seeds}"]
    config, overrides = _config.apply(experiment.config_for(scale), sets, config_file)
    experiment.check(config)
    return experiment, config, overrides, list(range(config.seeds))


def run_experiment(name, scale="full", seeds=None, sets=(), config_file=None, out=None, smoke=False,
                   restart=False, verbose=True):
    """Runs experiment `name`; returns the path of its Markdown report.

    Resumes the runs `<out>/<name>.partial.json` holds (same config, seeds and backend; another
    configuration's is refused, never discarded); a finished experiment (`<name>.json`) is
    reported and nothing is trained or rewritten. `restart=True` first moves the old files into
    `<out>/<name>.old-<time>/`. `verbose`: a line per finished run (`k/N`, seconds, an ETA).
    `smoke=True` is `scale="smoke"`.
    """
    scale = "smoke" if smoke else scale
    experiment, config, overrides, seeds = plan(name, scale, seeds, sets, config_file)
    key = experiment.name
    out = str(out or ("reports" if scale == "full" else os.path.join("runs", "smoke_reports")))
    say = print if verbose else None
    results = {"experiment": key, "title": experiment.title, "question": experiment.question, "scale": scale,
               "seeds": seeds, "config": _config.as_dict(config), "overrides": _config.jsonable(overrides),
               "command": _command(), "device": device_description(), "environment": saving.environment(),
               "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "epoch_order": EPOCH_ORDER}
    fingerprint = _results.fingerprint(results)
    finished, partial = (os.path.join(out, f"{key}{suffix}") for suffix in (".json", ".partial.json"))
    start = time.perf_counter()
    with _io.FileLock(os.path.join(out, key)):  # a second run into the same folder is refused
        if restart and (aside := _results.keep_aside(out, key)):
            print(f"keras-seminar: the earlier files of {key} are kept in {aside}", file=sys.stderr)
        if os.path.exists(finished):
            done = _results.read(finished, "resume")
            diff = _results.difference(_results.fingerprint(done), fingerprint)
            if diff:
                raise _results.conflict(finished, "a finished experiment", diff)
            print(f"keras-seminar: {key} is finished ({len(done['runs'])} runs in {finished}): nothing was "
                  "trained or rewritten (--render redraws its report, --restart trains it again)", file=sys.stderr)
            return os.path.join(out, f"{key}.md")
        if os.path.exists(partial):  # a record the report cannot draw is refused now, not after hours of training
            read(experiment, partial, "resume")
        runs = _results.Runs(partial, fingerprint, meta=results, total=experiment.total(config, seeds),
                             say=say, headline=experiment.headline)
        results.update(experiment.run(config, seeds, runs))
        results["runs"] = runs.records
        results["wall_seconds"] = round(time.perf_counter() - start, 1)
        path = _draw(experiment, results, out, partial, "resume")  # drawn before anything is published
        _io.atomic_write_json(finished, results)
        os.remove(partial)
        return path


def render(name, out="reports"):
    """Redraws `<out>/<name>.md` and its PNGs from `<out>/<name>.json`, without training.

    Without a finished `<name>.json`, a run still in progress (or killed) is drawn from its
    `<name>.partial.json`, and the report says loudly that it is incomplete.
    """
    experiment = _protocol.get(name)
    finished, partial = (os.path.join(str(out), f"{experiment.name}{s}") for s in (".json", ".partial.json"))
    if not os.path.exists(finished) and not os.path.exists(partial):
        raise UsageError(f"No results to render: {finished} does not exist. Run the experiment first.")
    source = finished if os.path.exists(finished) else partial
    return _draw(experiment, _results.read(source, "render"), out, source, "render")


def read(experiment, path, use):
    """The results in `path` (`NAME.json`, or a partial file as the results so far), checked by
    `_results.read` and by drawing their report where nothing is kept; `use` as there."""
    results = _results.read(path, use)
    with tempfile.TemporaryDirectory() as scratch:
        _draw(experiment, results, scratch, path, use)
    return results


def _draw(experiment, results, out, source, use):
    """Writes the report of `results` (read from `source`, a partial file's drawn as incomplete)
    into `out`; a file the report cannot draw (a config or record field missing or of the wrong
    type) is one `UsageError` naming `source`."""
    if "records" in results:
        results = {**results["meta"], "runs": results["records"], "incomplete": True}
    fix = _results.FIX[use]
    try:
        config = experiment.config_from(results["config"])
    except UsageError as e:
        raise UsageError(f"{source} holds a config this experiment cannot use ({e}); {fix}.") from e
    report = Report(experiment.name, out)
    try:
        experiment.render(config, results, report)
    except (KeyError, TypeError, IndexError, ValueError) as e:
        raise UsageError(f"{source} has records the report cannot draw ({type(e).__name__}: {e}: a field "
                         f"missing or of the wrong type); {fix}.") from e
    return report.write(results)


def _command():
    argv = sys.argv
    if argv and os.path.basename(argv[0]) in ("keras-seminar", "__main__.py"):
        prefix = f"KERAS_BACKEND={keras.backend.backend()} "
        return prefix + "keras-seminar " + " ".join(argv[1:])
    return " ".join(argv)
