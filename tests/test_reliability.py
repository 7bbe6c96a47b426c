"""What the package survives: kill -9 mid-training, kills during saves, NaN, unsafe or tampered files."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_seminar import saving
from keras_seminar.training import TrainConfig, TrainingDiverged, train
from tests._subprocess import run_cli

SMALL = ["--model", "softmax", "--dataset", "mnist", "--train-limit", "4096", "--test-limit",
         "512", "--validation-split", "0.01", "--batch-size", "64", "--quiet"]


def _tiny_model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))


def test_train_resumes_after_kill_9(tmp_path):
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
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = json.loads(state_path.read_text())["epoch"]
    assert 2 <= killed_at < 40
    assert not (tmp_path / "saved_models" / "softmax_mnist_s0.keras").exists()

    out = run_cli(["train", *SMALL, "--epochs", "40"], tmp_path, timeout=400).stdout
    summary = json.loads(out[: out.rindex("}") + 1])
    assert summary["epochs"] == 40 and json.loads(state_path.read_text())["epoch"] == 40
    metrics = json.loads((tmp_path / "runs" / "softmax_mnist_s0" / "metrics.json").read_text())
    assert len(metrics["history"]["loss"]) == 40 - killed_at  # resumed, not restarted
    assert summary["test"]["accuracy"] > 0.8


def test_kill_during_save_keeps_a_loadable_model(tmp_path):
    """A process saving in a loop is killed at random moments; the file on disk always verifies."""
    path = tmp_path / "m.keras"
    saving.save_model(_tiny_model(), str(path))
    code = ("import sys, keras; from keras_seminar import saving\n"
            "i = keras.Input((4,)); m = keras.Model(i, keras.layers.Dense(3)(keras.layers.Dense(2048)(i)))\n"
            "print('ready', flush=True)\n"
            "while True: saving.save_model(m, sys.argv[1])\n")
    rng = np.random.default_rng(0)
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(float(rng.uniform(0.3, 1.5)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        model = saving.load_model(str(path), verify=True)  # sha256 checked against the card
        assert model.count_params() > 0


def test_nan_stops_cleanly_and_saves_nothing(tmp_path):
    class PoisonWeights(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                kernel = self.model.get_layer("predictions_dense").kernel
                kernel.assign(keras.ops.full(kernel.shape, float("nan")))

    config = TrainConfig(model="softmax", dataset="mnist", epochs=2, train_limit=1024,
                         test_limit=128, runs_dir=str(tmp_path / "runs"),
                         models_dir=str(tmp_path / "models"), callbacks=[PoisonWeights()], verbose=0)
    with pytest.raises(TrainingDiverged, match=r"loss=nan at epoch 1, batch 3.*Nothing was saved"):
        train(config)
    assert not (tmp_path / "models").exists()


def test_cli_stops_on_divergence_with_a_clear_message(tmp_path):
    proc = run_cli(["train", *SMALL, "--epochs", "1", "--lr", "1e38"], tmp_path, check=False)
    assert proc.returncode == 3, proc.stderr
    assert "Training diverged" in proc.stderr and "Lower the learning rate" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_lambda_model_is_refused(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(saving.ModelFileError, match="Lambda layer"):
        saving.load_model(str(path))
    proc = run_cli(["evaluate", str(path), "--dataset", "mnist"], tmp_path, check=False)
    assert proc.returncode == 2 and "Lambda layer" in proc.stderr and "Traceback" not in proc.stderr


def test_tampered_and_truncated_files_are_refused(tmp_path):
    path = tmp_path / "m.keras"
    saving.save_model(_tiny_model(), str(path))
    card = json.loads((tmp_path / "m.json").read_text())
    card["sha256"] = "0" * 64
    (tmp_path / "m.json").write_text(json.dumps(card))
    with pytest.raises(saving.ModelFileError, match="sha256 .* but its card says 0000"):
        saving.load_model(str(path))
    saving.save_model(_tiny_model(), str(path))
    (tmp_path / "m.json").unlink()
    with pytest.raises(saving.ModelFileError, match="has no model card"):
        saving.load_model(str(path), verify=True)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(saving.ModelFileError, match="corrupted or truncated"):
        saving.load_model(str(path), verify=False)


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
])
def test_train_config_errors_name_the_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_save_model_rejects_other_formats(tmp_path):
    with pytest.raises(ValueError, match=r"ending in .keras. Received: path='.*m.h5'"):
        saving.save_model(_tiny_model(), str(tmp_path / "m.h5"))
