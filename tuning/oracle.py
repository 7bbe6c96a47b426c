"""KerasTuner oracles with the search's guards: non-finite scores fail, state is written
atomically, and the tuner that ran each trial is remembered (for the distributed report)."""

import json
import math
import os

import keras_tuner

from keras_seminar._io import atomic_write

# One per name of `tuning.config.TUNERS`.
ORACLES = {"bayesian": keras_tuner.oracles.BayesianOptimizationOracle,
           "random": keras_tuner.oracles.RandomSearchOracle,
           "hyperband": keras_tuner.oracles.HyperbandOracle}


class GuardedOracle:
    """Oracle mixin. KerasTuner writes `oracle.json` and `trial.json` in place (a kill during a
    write leaves a file that cannot be reloaded); these overrides write them atomically."""

    def score_trial(self, trial):
        super().score_trial(trial)
        if trial.score is not None and not math.isfinite(trial.score):
            # `Oracle.end_trial` marks a NaN score INVALID, then FAILED once out of retries;
            # the Bayesian oracle would otherwise model inf as a result (`np.nan_to_num`).
            trial.score = float("nan")

    def create_trial(self, tuner_id):
        trial = super().create_trial(tuner_id)
        if trial.status == "RUNNING":
            self.__dict__.setdefault("trial_owners", {})[trial.trial_id] = tuner_id
        return trial

    def get_state(self):
        return {**super().get_state(), "trial_owners": getattr(self, "trial_owners", {})}

    def set_state(self, state):
        super().set_state(state)
        self.trial_owners = dict(state.get("trial_owners", {}))

    # `save` and `_save_trial` are KerasTuner's own hooks; it has no public name for the
    # oracle's file or trial folder, so `_get_oracle_fname` / `_get_trial_dir` are used.
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


def make_oracle(kind, objective, max_trials, epochs, seed, num_initial_points=None):
    """A KerasTuner oracle of `kind` ("bayesian", "hyperband", "random") with the guards."""
    if kind not in ORACLES:
        raise ValueError(f"Unknown tuner {kind!r}. Expected one of {sorted(ORACLES)}.")
    cls = type(f"Guarded{ORACLES[kind].__name__}", (GuardedOracle, ORACLES[kind]), {})
    common = {"objective": objective, "seed": seed + 1, "max_consecutive_failed_trials": 5}
    if kind == "hyperband":
        oracle = cls(max_epochs=epochs, factor=3, **common)
        oracle.max_trials = max_trials  # the base Oracle stops at max_trials for Hyperband too
        return oracle
    if kind == "bayesian":  # random trials before the Gaussian process (default 3 x dimensions)
        common["num_initial_points"] = num_initial_points
    return cls(max_trials=max_trials, **common)
