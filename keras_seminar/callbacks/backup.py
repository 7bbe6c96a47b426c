"""A BackupAndRestore whose every write is atomic, so `kill -9` at any moment is survivable."""

import glob
import json
import os

import keras

from keras_seminar.datasets._cache import atomic_write_bytes


class AtomicBackupAndRestore(keras.callbacks.Callback):
    """Saves weights + optimizer state every epoch; a restarted `fit` resumes from it.

    Keras's `BackupAndRestore` writes the weights and the epoch counter as two files in
    place, so a kill between (or during) the writes leaves them out of step. Here each
    epoch's weights go to a new file (temporary name + `os.replace`), and only then is the
    small `state.json` that points at it replaced, atomically. A kill at any instant leaves
    a consistent pair: the old one or the new one.

    Args:
        backup_dir: folder for the backup; kept after training so a finished run is not
            trained again (delete it to start over).
    """

    def __init__(self, backup_dir):
        super().__init__()
        if not backup_dir:
            raise ValueError(f"Expected a backup_dir. Received: backup_dir={backup_dir!r}")
        self.backup_dir = backup_dir
        self._state_path = os.path.join(backup_dir, "state.json")

    def read_state(self):
        if not os.path.exists(self._state_path):
            return None
        with open(self._state_path) as f:
            return json.load(f)

    def on_train_begin(self, logs=None):
        state = self.read_state()
        if state is None:
            return
        if not self.model.built:
            raise ValueError("The model must be built before fit() to resume from a backup.")
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(os.path.join(self.backup_dir, state["weights"]))
        self.model._initial_epoch = state["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.backup_dir, exist_ok=True)
        weights = f"epoch-{epoch + 1:05d}.weights.h5"
        tmp = os.path.join(self.backup_dir, f".{weights}.partial.weights.h5")
        self.model.save_weights(tmp, overwrite=True)
        os.replace(tmp, os.path.join(self.backup_dir, weights))
        state = {"epoch": epoch + 1, "weights": weights,
                 "logs": {k: float(v) for k, v in (logs or {}).items()}}
        atomic_write_bytes(self._state_path, lambda f: f.write(json.dumps(state).encode()))
        for old in glob.glob(os.path.join(self.backup_dir, "epoch-*.weights.h5")):
            if os.path.basename(old) != weights:
                os.remove(old)
