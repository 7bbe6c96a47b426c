"""An experiment's result files: read through one validating loader, written one record at a time.

`NAME.partial.json` holds `{"fingerprint", "meta", "records"}` while an experiment runs (saved
after every run, so a killed run resumes); `NAME.json` the finished results (`meta`, `"runs"`).
`read` is the one way either is read back (resume, `--render`, `--compare-to`): a file that is
truncated, empty or lacks a field is one `UsageError` naming it and what to do, and nothing is
published or deleted on the way. A partial of another configuration is refused (`RunConflict`),
never discarded; `keep_aside` moves old files into a dated folder when asked to start over.
"""

import datetime
import glob
import json
import os
import shutil
import time

from keras_seminar.experiments import _config

from keras_seminar import _io
from keras_seminar.errors import RunConflict, UsageError

# What each kind of file must hold (a field: the type its value must have); a partial file's
# "meta" holds what a finished one holds but its runs.
_META = {"experiment": str, "title": str, "question": str, "config": dict, "seeds": list, "environment": dict}
_PARTIAL = {"fingerprint": dict, "meta": dict, "records": list}
_FINISHED = {**_META, "runs": list}
FIX = {"resume": "move it aside, or pass --restart to keep it aside and start over",
        "render": "restore it (e.g. from git) or run the experiment again",
        "compare": "restore it (e.g. from git) or compare another folder"}


def read(path, use):
    """The results in `path` (`NAME.json` or `NAME.partial.json`), checked; `use` ("resume",
    "render" or "compare") picks the advice of the error a bad file raises."""
    partial = path.endswith(".partial.json")

    def bad(problem):
        return UsageError(f"{path} {problem}; {FIX[use]}.")

    try:
        with open(path) as f:
            saved = json.load(f)
    except RecursionError as e:
        raise bad("is nested too deeply to be a results file") from e
    except (OSError, ValueError) as e:  # JSONDecodeError is a ValueError
        raise bad(f"is not a readable results file ({' '.join(str(e).split())})") from e
    if not isinstance(saved, dict):
        raise bad(f"holds a JSON {type(saved).__name__}, not a results object")
    checks = [(saved, key, kind, "") for key, kind in (_PARTIAL if partial else _FINISHED).items()]
    checks += [(saved.get("meta") or {}, key, kind, "meta's ") for key, kind in _META.items()] if partial else []
    for where, key, kind, whose in checks:
        if not isinstance(where.get(key), kind):
            raise bad(f"lacks its {whose}{key!r} field" if key not in where else f"has a bad {whose}{key!r} field")
    records = saved["records" if partial else "runs"]
    for i, r in enumerate(records):
        if not (isinstance(r, dict) and isinstance(r.get("arm"), dict) and isinstance(r.get("seed"), int)):
            raise bad(f"has a bad record (#{i + 1}: each needs an 'arm' object and an integer 'seed')")
    return saved


def fingerprint(results):
    """What a run's records depend on beyond the code: the config, the seeds, the backend (and
    on TensorFlow the training order, fixed before 2026-12-04, `_runner.EPOCH_ORDER` since)."""
    backend = (results.get("environment") or {}).get("backend")
    out = {"config": results.get("config"), "seeds": results.get("seeds"), "backend": backend}
    if backend == "tensorflow":
        out["epoch_order"] = results.get("epoch_order")
    return out


def difference(stored, wanted, prefix=""):
    """The first setting in which two fingerprints differ, in words, or None."""
    for key in sorted(set(stored) | set(wanted)):
        a, b = stored.get(key), wanted.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found = difference(a, b, f"{prefix}{key}." if key != "config" else "")
            if found:
                return found
        elif a != b:
            return f"{prefix}{key}={_config._shown(a, 60)} there, {_config._shown(b, 60)} here"
    return None


def conflict(path, what, diff):
    return RunConflict(f"{path} holds {what} of another configuration ({diff}); use another --out, "
                       "or pass --restart to keep the old files aside and start over.")


def keep_aside(out, name):
    """Moves `name`'s result files, report and figures in `out` into a new folder
    `out/name.old-<UTC time>/` (where `--render --out` still draws them); returns it, or None."""
    files = [os.path.join(out, f"{name}{suffix}") for suffix in (".json", ".partial.json", ".md")]
    files = [f for f in files + sorted(glob.glob(os.path.join(glob.escape(out), f"{name}_*.png")))
             if os.path.exists(f)]
    if not files:
        return None
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    folder = os.path.join(out, f"{name}.old-{stamp}")
    os.makedirs(folder)
    for f in files:
        shutil.move(f, os.path.join(folder, os.path.basename(f)))
    return folder


def _duration(seconds):
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _headline(record, keys):
    """"key value" of the first of `keys` that is a number (dotted paths reach into nested
    records; of a list, e.g. one value per measured epoch, the last)."""
    for key in keys:
        value = record
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        value = value[-1] if isinstance(value, list) and value else value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{key} {value:.4g}"
    return None


class Runs:
    """Every run's record (`{"arm": {...}, "seed": s, ...}`), saved to `path` after each one.

    A run killed half-way resumes: the records of a partial file of the same fingerprint are
    read back and their runs skipped; one of another fingerprint is refused (`RunConflict`).
    With `say` (e.g. `print`), a line per finished run: its arm, seed, headline number, seconds,
    `k/total` and an ETA, and a line when resuming.
    """

    def __init__(self, path, fingerprint, meta=None, total=None, say=None, headline=()):
        self.path, self.fingerprint, self.meta, self.records = path, fingerprint, meta or {}, []
        self.total, self.say, self.headline = total, say, tuple(headline)
        if path and os.path.exists(path):
            saved = read(path, "resume")
            if saved["records"]:
                diff = difference(saved["fingerprint"], fingerprint)
                if diff:
                    raise conflict(path, f"{len(saved['records'])} finished runs", diff)
                self.records = saved["records"]
                # A resumed run's own start and wall time cover only its part: say which part.
                earlier = saved["meta"]
                self.meta["resumed"] = {"runs": len(self.records), "first_started": (
                    earlier.get("resumed") or {}).get("first_started", earlier.get("started", "unknown"))}
                self._say(f"resuming: {len(self.records)}/{total} runs done ({path})")
        self._start = self._last = time.perf_counter()
        self._new = 0

    def _say(self, line):
        if self.say:
            self.say(line)

    @staticmethod
    def _key(arm, seed):
        return json.dumps(arm, sort_keys=True), seed

    def get(self, arm, seed):
        for r in self.records:
            if self._key(r["arm"], r["seed"]) == self._key(_config.jsonable(arm), seed):
                return r
        return None

    def add(self, arm, seed, **values):
        record = {"arm": _config.jsonable(arm), "seed": seed, **_config.jsonable(values)}
        self.records.append(record)
        if self.path:
            _io.atomic_write_json(self.path, {"fingerprint": self.fingerprint, "meta": self.meta,
                                              "records": self.records})
        now, self._new = time.perf_counter(), self._new + 1
        seconds, self._last = now - self._last, now
        done = len(self.records)
        eta = _duration((now - self._start) / self._new * (self.total - done)) if self.total else "?"
        arm_text = ", ".join(f"{k}={v}" for k, v in record["arm"].items())
        self._say(f"{done}/{self.total or '?'} {arm_text}, seed {seed}: "
                  + ", ".join(filter(None, [_headline(record, self.headline), f"{seconds:.1f} s",
                                            f"ETA {eta}"])))
        return record
