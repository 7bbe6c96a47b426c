"""KerasTuner oracles with the search's guards: non-finite scores fail, state is written
atomically, the tuner that ran each trial is remembered (for the distributed report), and each
ended trial is one line of progress: "trial k/N", its score or why it is not a result, the best
so far and an ETA.

The oracle ends every trial (local, or for every worker when it is the chief), so the progress
lines are printed where the search is watched."""

import json
import math
import os
import sys
import time

import keras_tuner

from keras_seminar._io import atomic_write

__all__ = ["GuardedBayesianOracle", "GuardedHyperbandOracle", "GuardedOracle",
           "GuardedRandomSearchOracle", "make_oracle", "ORACLES"]


class GuardedOracle(keras_tuner.Oracle):
    """What the search adds to KerasTuner's `Oracle`, through its public methods
    (`score_trial`, `create_trial`, `end_trial`, `get_state` / `set_state`, `save`) and, where
    it has none, its private hook for saving a trial (see `_save_trial`).

    Args:
        progress: print one line per ended trial (rejected trials are printed regardless).
    """

    def __init__(self, *args, progress=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.trial_owners = {}
        self.progress = progress
        self._session = None  # (start time, trials ended before) of this process's search
        self._started = {}  # trial_id -> when this process handed it out

    def score_trial(self, trial):
        super().score_trial(trial)
        if trial.score is not None and not math.isfinite(trial.score):
            # `Oracle.end_trial` marks a NaN score INVALID, then FAILED once out of retries;
            # the Bayesian oracle would otherwise model inf as a result (`np.nan_to_num`).
            trial.score = float("nan")

    def create_trial(self, tuner_id):
        if self._session is None:
            self._session = (time.monotonic(), len(self._ended()))
        trial = super().create_trial(tuner_id)
        if trial.status == "RUNNING":
            self.trial_owners[trial.trial_id] = tuner_id
            self._started[trial.trial_id] = time.monotonic()
        return trial

    def end_trial(self, trial):
        super().end_trial(trial)
        ended = self.trials[trial.trial_id]
        if ended.status in ("COMPLETED", "FAILED"):
            self._report(ended)

    def get_state(self):
        return {**super().get_state(), "trial_owners": self.trial_owners}

    def set_state(self, state):
        super().set_state(state)
        self.trial_owners = dict(state.get("trial_owners", {}))

    # KerasTuner writes `oracle.json` and `trial.json` in place (a kill during a write leaves a
    # file that cannot be reloaded); these two write them atomically. KerasTuner has no public
    # name for either file, nor a public hook for saving a trial: `_save_trial`,
    # `_get_oracle_fname` and `_get_trial_dir` are its private ones.
    def save(self):
        atomic_write(self._get_oracle_fname(), json.dumps(self.get_state()))

    def _save_trial(self, trial):
        if trial.status != "RUNNING":
            # KerasTuner writes the ended trial's file, then oracle.json: a kill between the two
            # left a COMPLETED trial the reloaded oracle did not know. The oracle's record of
            # the end goes first, so the trial file saying COMPLETED is the last write.
            self.save()
        atomic_write(os.path.join(self._get_trial_dir(trial.trial_id), "trial.json"),
                     json.dumps(trial.get_state()))

    def _ended(self):
        return [t for t in self.trials.values() if t.status in ("COMPLETED", "FAILED")]

    def _report(self, trial):
        """One line for an ended trial: `trial k/N`, its score or why it is not a result, the
        best so far and the time left at this session's pace."""
        done, total = len(self._ended()), self.max_trials
        name = self.objective.name
        best = [t for t in self.get_best_trials(1) if t.status == "COMPLETED"]
        best_text = f"best {best[0].score:.4f} (trial {best[0].trial_id})" if best else "no result yet"
        start, before = self._session or (time.monotonic(), done - 1)
        elapsed, finished = time.monotonic() - start, max(1, done - before)
        eta = "" if total is None or done >= total else \
            f"; ETA {_duration(elapsed / finished * (total - done))}"
        took = self._started.pop(trial.trial_id, None)
        took = f" in {_duration(time.monotonic() - took)}" if took is not None else ""
        head = f"trial {done}/{total or '?'} (id {trial.trial_id}{took})"
        if trial.status == "COMPLETED":
            if self.progress:
                print(f"{head}: {name} {trial.score:.4f}; {best_text}{eta}", flush=True)
        else:  # FAILED: a rejection the user must see even when quiet, as one line
            # The tuner leaves the reason as the message (`ZooTuner.on_trial_end`); a worker's
            # trial reaches the chief without it (KerasTuner's gRPC trial has no message).
            reason = (trial.message or "not a result (the reason is in the worker's log)").strip().splitlines()[-1].rstrip(".")
            print(f"{head} rejected: {reason}; {best_text}{eta}", file=sys.stderr, flush=True)


class GuardedBayesianOracle(GuardedOracle, keras_tuner.oracles.BayesianOptimizationOracle):
    """KerasTuner's Bayesian optimization (Gaussian process) oracle with the guards."""


class GuardedRandomSearchOracle(GuardedOracle, keras_tuner.oracles.RandomSearchOracle):
    """KerasTuner's random search oracle with the guards."""


class GuardedHyperbandOracle(GuardedOracle, keras_tuner.oracles.HyperbandOracle):
    """KerasTuner's Hyperband oracle with the guards."""


# One per name of `tuning.config.TUNERS`.
ORACLES = {"bayesian": GuardedBayesianOracle, "random": GuardedRandomSearchOracle,
           "hyperband": GuardedHyperbandOracle}


def make_oracle(kind, objective, max_trials, epochs, seed, num_initial_points=None, progress=True):
    """A KerasTuner oracle of `kind` ("bayesian", "hyperband", "random") with the guards."""
    if kind not in ORACLES:
        raise ValueError(f"Unknown tuner {kind!r}. Expected one of {sorted(ORACLES)}.")
    common = {"objective": objective, "seed": seed + 1, "max_consecutive_failed_trials": 5,
              "progress": progress}
    if kind == "hyperband":
        oracle = ORACLES[kind](max_epochs=epochs, factor=3, **common)
        oracle.max_trials = max_trials  # the base Oracle stops at max_trials for Hyperband too
        return oracle
    if kind == "bayesian":  # random trials before the Gaussian process (default 3 x dimensions)
        common["num_initial_points"] = num_initial_points
    return ORACLES[kind](max_trials=max_trials, **common)


def _duration(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else \
        f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
