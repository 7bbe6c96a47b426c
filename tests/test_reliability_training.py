"""What a training run survives: kill -9 mid-training (the same command resumes), NaN
(rolled back to the last finite epoch), a run that did not learn, and bad configs or output
folders refused before any work. Saved files and the CLI's errors: test_reliability_files.py."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_seminar import cli
from keras_seminar.errors import RunConflict
from keras_seminar.training import TrainConfig, TrainingDiverged, train
from tests._subprocess import run_cli

SMALL = ["--model", "softmax", "--dataset", "mnist", "--train-limit", "4096", "--test-limit",
         "512", "--validation-split", "0.01", "--batch-size", "64", "--quiet"]


def test_train_resumes_after_kill_9(tmp_path, capsys):
    """Kill the real CLI with SIGKILL after its first epoch; the same command finishes the rest."""
    args = ["train", *SMALL, "--epochs", "40"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "keras_seminar", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state_path = tmp_path / "runs" / "softmax_mnist_s0" / "backup" / "state.json"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if state_path.exists() and json.loads(state_path.read_text())["epoch"] >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training ended before it could be killed"
    # A second run of the same name, while the first is alive, refuses in one line.
    assert cli.main(["train", *args[1:], "--runs-dir", str(tmp_path / "runs")]) == 2
    assert proc.poll() is None, "training ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"is in use by process {proc.pid}" in err
    killed_at = json.loads(state_path.read_text())["epoch"]
    assert 2 <= killed_at < 40
    run_dir = tmp_path / "runs" / "softmax_mnist_s0"
    assert (run_dir.parent / "softmax_mnist_s0.lock").exists()  # the dead process's lock
    assert not (run_dir / "softmax_mnist_s0.keras").exists()

    proc = run_cli(["train", *SMALL, "--epochs", "40"], tmp_path, timeout=400)
    assert f"resuming softmax_mnist_s0 from epoch {killed_at} of 40" in proc.stderr
    summary = json.loads(proc.stdout[: proc.stdout.rindex("}") + 1])
    assert summary["epochs"] == 40 and json.loads(state_path.read_text())["epoch"] == 40
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert len(metrics["history"]["loss"]) == 40  # the whole history, across the kill
    assert metrics["train_seconds"] >= json.loads(state_path.read_text())["train_seconds"] - 0.01
    assert summary["test"]["accuracy"] > 0.8 and summary["model_path"] == str(
        os.path.join("runs", "softmax_mnist_s0", "softmax_mnist_s0.keras"))


class PoisonWeights(keras.callbacks.Callback):
    """Sets the output kernel to NaN at batch 2 of epoch `epoch` (0-based)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        self._now = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._now == self.epoch and batch == 2:
            kernel = self.model.get_layer("predictions_dense").kernel
            kernel.assign(keras.ops.full(kernel.shape, float("nan")))


def _nan_config(tmp_path, **kwargs):
    # One step per call, so the poison and the guard see every batch.
    kwargs.setdefault("steps_per_execution", 1)
    return TrainConfig(model="softmax", dataset="mnist", epochs=3, train_limit=1024,
                       test_limit=128, validation_split=0.01, runs_dir=str(tmp_path / "runs"),
                       verbose=0, **kwargs)


def test_divergence_rolls_back_to_the_last_finite_epoch(tmp_path, capsys):
    backup = tmp_path / "runs" / "softmax_mnist_s0" / "backup"
    with pytest.raises(TrainingDiverged, match=r"loss=nan at epoch 2, batch 3.*Nothing was saved; "
                                               r".*backup keeps epoch 1, the last finite one"):
        train(_nan_config(tmp_path, callbacks=[PoisonWeights(epoch=1)]))
    state = json.loads((backup / "state.json").read_text())
    assert state["epoch"] == 1 and np.isfinite(state["logs"]["loss"])
    assert not list((tmp_path / "runs").rglob("*.keras"))  # no model saved
    # The same command without the poison resumes from the finite epoch and saves a sound model.
    result = train(_nan_config(tmp_path))
    assert "resuming softmax_mnist_s0 from epoch 1 of 3" in capsys.readouterr().err
    assert len(result["history"]["loss"]) == 3 and np.all(np.isfinite(result["history"]["loss"]))
    assert result["test"]["accuracy"] > 0.5 and not result["warnings"]


def test_divergence_in_the_first_epoch_backs_up_nothing(tmp_path):
    with pytest.raises(TrainingDiverged, match="no finite epoch was backed up"):
        train(_nan_config(tmp_path, callbacks=[PoisonWeights(epoch=0)]))
    assert not (tmp_path / "runs" / "softmax_mnist_s0" / "backup" / "state.json").exists()


def test_resuming_from_non_finite_weights_is_refused(tmp_path):
    """A backup written by an older version (before the finite check) holds NaN weights."""
    from keras_seminar.training import resolve

    plan = resolve(_nan_config(tmp_path))
    model = plan.build((28, 28, 1), 10)
    model.set_weights([np.full(w.shape, np.nan, "float32") for w in model.get_weights()])
    os.makedirs(plan.backup_dir)
    model.save_weights(os.path.join(plan.backup_dir, "epoch-00001.weights.h5"))
    (tmp_path / "runs" / "softmax_mnist_s0" / "backup" / "state.json").write_text(json.dumps(
        {"epoch": 1, "weights": "epoch-00001.weights.h5", "logs": {"loss": float("nan")}}))
    with pytest.raises(RunConflict, match=r"holds non-finite weights \(epoch 1 .*resume=False"):
        train(_nan_config(tmp_path))
    assert not list((tmp_path / "runs").rglob("*.keras"))


@pytest.mark.parametrize("escape", ["absolute", "parent", "symlink"])
def test_backup_weights_outside_the_backup_folder_are_refused(tmp_path, capsys, escape):
    """A state.json may only name a weights file inside its own folder: an absolute path, a
    `../` path or a symlink leading out is refused in one line, and nothing is resumed."""
    from keras_seminar.training import resolve

    plan = resolve(_nan_config(tmp_path))
    os.makedirs(plan.backup_dir)
    outside = tmp_path / "elsewhere.weights.h5"
    plan.build((28, 28, 1), 10).save_weights(str(outside))  # weights this model would load
    name = {"absolute": str(outside), "parent": os.path.join("..", "..", "..", outside.name),
            "symlink": "epoch-00001.weights.h5"}[escape]
    if escape == "symlink":
        os.symlink(outside, os.path.join(plan.backup_dir, name))
    assert os.path.isfile(os.path.join(plan.backup_dir, name))  # it would load without the check
    (tmp_path / "runs" / "softmax_mnist_s0" / "backup" / "state.json").write_text(json.dumps(
        {"epoch": 1, "weights": name, "logs": {"loss": 1.0}}))
    with pytest.raises(RunConflict, match=rf"points its weights at {re.escape(repr(name))}, "
                                          r"outside .*backup; no run resumes from it"):
        train(_nan_config(tmp_path))
    assert cli.main(["train", "--model", "softmax", "--dataset", "mnist", "--epochs", "3",
                     "--runs-dir", str(tmp_path / "runs"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "outside" in err and "Traceback" not in err
    assert not list((tmp_path / "runs").rglob("*.keras"))


def test_a_run_that_did_not_learn_says_so_and_exits_3(tmp_path, monkeypatch, capsys):
    from keras_seminar.training import health_warnings
    from keras_seminar.training import run as run_module

    assert health_warnings({"loss": [2.0, 1.0]}, {"accuracy": 0.9}, 10) == []
    rose, = health_warnings({"loss": [2.0, 1.0, 2.5]}, {"accuracy": 0.9}, 10)
    assert "rose from 2 (epoch 1) to 2.5 (epoch 3)" in rose
    chance, = health_warnings({"loss": [2.0]}, {"accuracy": 0.11}, 10)
    assert "at chance (1/10 = 0.100)" in chance
    monkeypatch.setattr(run_module, "CHANCE_MARGIN", 1.0)  # every accuracy is "at chance"
    status = cli.main(["train", "--model", "softmax", "--dataset", "mnist", "--epochs", "1",
                       "--train-limit", "256", "--test-limit", "64", "--validation-split", "0.01",
                       "--runs-dir", str(tmp_path / "runs"), "--quiet"])
    assert status == 3 and "keras-seminar: warning: the test accuracy" in capsys.readouterr().err
    run_dir = tmp_path / "runs" / "softmax_mnist_s0"
    for record in ("metrics.json", "softmax_mnist_s0.json"):  # the files say what they are
        assert "at chance" in json.loads((run_dir / record).read_text())["warnings"][0]


def test_cli_stops_on_divergence_with_a_clear_message(tmp_path):
    proc = run_cli(["train", *SMALL, "--epochs", "1", "--lr", "1e38"], tmp_path, check=False)
    assert proc.returncode == 3, proc.stderr
    assert "Training diverged" in proc.stderr and "Lower the learning rate" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("kwargs, match", [
    ({"model": "alexnet"}, "Unknown model 'alexnet'"),
    ({"dataset": "svhn"}, "Unknown dataset 'svhn'"),
    ({"epochs": 0}, "epochs=0"),
    ({"epochs": 2.5}, "epochs=2.5"),
    ({"batch_size": -1}, "batch_size=-1"),
    ({"train_limit": 0}, "train_limit=0"),
    ({"learning_rate": float("nan")}, "learning_rate=nan"),
    ({"learning_rate": -0.1}, "learning_rate=-0.1"),
    ({"seed": -2}, "seed=-2"),
    ({"run_name": "a/b"}, "run_name='a/b'"),
    ({"model_options": "l2"}, "model_options"),
    ({"model_options": {"input_shape": [3]}}, "model_options without input_shape"),
    ({"model_options": {"num_classes": 3}}, "model_options without num_classes"),
    ({"runs_dir": None}, "runs_dir=None"),
    ({"models_dir": 7}, "models_dir=7"),
    ({"callbacks": 5}, "callbacks=5"),
    ({"monitors": ("gradients", "loss")}, "Unknown monitors 'loss'"),
    ({"precision": "float8"}, "Unknown precision 'float8'"),
    ({"fused": "yes"}, "fused='yes'"),
])
def test_train_config_errors_name_the_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)
    with pytest.raises(ValueError, match=match):
        train(**kwargs)


def test_numpy_numbers_are_numbers():
    config = TrainConfig(epochs=np.int64(3), seed=np.int32(1), learning_rate=np.float32(0.01),
                         validation_split=np.float64(0.05), train_limit=np.uint16(512))
    assert (config.epochs, config.seed, config.train_limit) == (3, 1, 512)
    assert type(config.epochs) is int and type(config.learning_rate) is float


@pytest.mark.parametrize("field", ["runs_dir", "models_dir", "data_dir"])
def test_output_folders_are_checked_before_training(tmp_path, field, capsys):
    from keras_seminar.training import resolve

    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    config = TrainConfig(**{"model": "softmax", "dataset": "mnist",
                            "runs_dir": str(tmp_path / "runs"), field: str(a_file / "sub")})
    with pytest.raises(ValueError, match=f"Expected {field} to be a directory, but .*a_file' is a file"):
        resolve(config)
    flag = "--" + field.replace("_", "-")
    argv = ["train", "--model", "softmax", "--dataset", "mnist", flag, str(a_file)]
    if field != "runs_dir":
        argv += ["--runs-dir", str(tmp_path / "runs")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"Expected {field} to be a directory" in err
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").rglob("*.keras"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_folder_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ValueError, match="Expected models_dir to be a writable directory"):
        from keras_seminar.training import resolve

        resolve(TrainConfig(models_dir=str(locked / "m"), runs_dir=str(tmp_path / "runs")))
