"""`ZooTuner`: a `keras_tuner.Tuner` that seeds each trial, checks that it declares the space its
oracle sampled from, writes each ended trial to TensorBoard's HParams dashboard, and saves its
own state atomically."""

import json
import os

import keras
import keras_tuner
from keras_seminar.tuning import distributed
from keras_tuner.src import config as kt_config

from keras_seminar import hparams
from keras_seminar._io import atomic_write
from keras_seminar.errors import TrainingDiverged

__all__ = ["space_differences", "ZooHyperbandTuner", "ZooTuner"]


def space_differences(hypermodel, trial_hp):
    """Names whose declaration here differs from the one the oracle sampled (`trial_hp`).

    A worker rebuilt from a lossy config would declare `Choice([a, b])` where the chief declared
    `Float(a, b)`; KerasTuner hides that (it returns the chief's value), so it is checked here.
    """
    own = keras_tuner.HyperParameters()
    hypermodel.declare(own)
    theirs = {hp.name: _signature(hp) for hp in trial_hp.space}
    return sorted(hp.name for hp in own.space if theirs.get(hp.name, _signature(hp)) != _signature(hp))


def _signature(hp):
    """What a declaration means (its kind and domain), without fields that a trip through
    KerasTuner's protobuf may fill in differently (step, default, ordered)."""
    config = hp.get_config()
    domain = [config.get(k) for k in ("min_value", "max_value", "sampling", "values", "value")]
    return type(hp).__name__, repr(domain)


class ZooTuner(keras_tuner.Tuner):
    """The search's tuner (chief, worker or local); `seed` seeds every trial's weights."""

    def __init__(self, oracle, hypermodel, seed=0, **kwargs):
        keras_tuner.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)
        self.seed = seed
        self._histories, self._reasons = {}, {}

    def run_trial(self, trial, *args, **kwargs):
        differences = space_differences(self.hypermodel, trial.hyperparameters)
        if differences:
            raise keras_tuner.errors.FatalError(
                f"Tuner {self.tuner_id} declares {differences} differently from the oracle; run "
                "every worker with the chief's search config.")
        keras.utils.set_random_seed(self.seed * 1000 + int(trial.trial_id))
        try:
            results = super().run_trial(trial, *args, **kwargs)
        except keras_tuner.errors.FailedTrialError as e:  # not a result (`trial_check`)
            self._reasons[trial.trial_id] = str(e)
            raise
        except TrainingDiverged as e:  # the fit engine's own NaN guard: not a result either
            self._reasons[trial.trial_id] = f"Not a result: {e}"
            raise keras_tuner.errors.FailedTrialError(self._reasons[trial.trial_id]) from e
        except Exception as e:  # a bug or a bad setting: KerasTuner keeps the traceback
            where = os.path.join(self.project_dir, f"trial_{trial.trial_id}", "trial.json")
            self._reasons[trial.trial_id] = f"{type(e).__name__}: {' '.join(str(e).split())} (traceback in {where})"
            raise
        self._histories[trial.trial_id] = results[-1].history if isinstance(results, list) else {}
        return results

    def on_search_begin(self):
        super().on_search_begin()
        # The oracle prints one line per ended trial (`tuning.oracle`) instead of KerasTuner's
        # tables, and a trial that is not a result is that one line, not a traceback: KerasTuner
        # prints each failed trial's traceback while its `config.DEBUG` is set (the default; no
        # public switch), and keeps it in the trial's file either way.
        self.oracle.verbose = 0
        self._debug, kt_config.DEBUG = kt_config.DEBUG, False
        self.save()  # a kill before the first trial ends still leaves a tuner to reload

    def on_search_end(self):
        kt_config.DEBUG = self._debug
        super().on_search_end()

    def on_trial_end(self, trial):
        """Writes the trial as an HParams session `<project_dir>/tensorboard/<trial_id>`: its
        values, per-epoch metrics and `score`; any status but COMPLETED shows as a failure. The
        message of a failed trial ends with its reason in one line (the oracle prints it)."""
        reason = self._reasons.pop(trial.trial_id, None)
        if reason:
            trial.message = f"{trial.message or ''}\n{reason}".strip()
        super().on_trial_end(trial)
        ended = self.oracle.get_trial(trial.trial_id)
        metrics = dict(self._histories.pop(trial.trial_id, {}))
        if ended.score is not None:
            metrics["score"] = ended.score
        hparams.write_session(os.path.join(self.project_dir, "tensorboard"), trial.trial_id,
                              ended.hyperparameters.values, metrics, status=ended.status)

    def save(self):
        # `BaseTuner.save` writes in place; this is it with atomic writes (the file name is
        # KerasTuner's `<project_dir>/<tuner_id>.json`, which it only has a private name for).
        if distributed.role() != "worker":
            self.oracle.save()
        atomic_write(os.path.join(self.project_dir, f"{self.tuner_id}.json"),
                     json.dumps(self.get_state()))


class ZooHyperbandTuner(ZooTuner, keras_tuner.Hyperband):
    """`ZooTuner` with Hyperband's `run_trial` (epoch budgets, weights carried between rounds)."""
