"""The CLI on the real data: a smoke train, a fresh-process reload, and clear user errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tests._subprocess import run_cli

SMOKE = ["train", "--model", "cnn", "--dataset", "fashion_mnist", "--epochs", "1",
         "--train-limit", "512", "--test-limit", "256", "--validation-split", "0.01",
         "--runs-dir", "runs", "--models-dir", "models", "--quiet"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("cli")
    proc = run_cli(SMOKE, cwd)
    summary = json.loads(proc.stdout[: proc.stdout.rindex("}") + 1])
    return cwd, summary, proc.stdout


def test_smoke_train_prints_and_writes_everything(trained):
    cwd, summary, stdout = trained
    assert "Test accuracy:" in stdout
    assert 0.3 < summary["test"]["accuracy"] <= 1.0  # 512 images, 1 epoch: well above chance
    assert (cwd / "models" / "cnn_fashion_mnist_s0.keras").exists()
    card = json.loads((cwd / "models" / "cnn_fashion_mnist_s0.json").read_text())
    assert card["sha256"] == summary["sha256"] and card["parameters"] > 3_000_000
    metrics = json.loads((cwd / "runs" / "cnn_fashion_mnist_s0" / "metrics.json").read_text())
    assert metrics["test"] == summary["test"] and metrics["train_examples"] == 512


def test_tensorboard_events_read_back(trained):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = trained[0] / "runs" / "cnn_fashion_mnist_s0"
    train = EventAccumulator(str(run / "train")).Reload()
    val = EventAccumulator(str(run / "validation")).Reload()
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"} <= set(train.Tags()["scalars"])
    assert {"epoch_loss", "epoch_accuracy"} <= set(val.Tags()["scalars"])
    assert np.isfinite(train.Scalars("epoch_loss")[0].value)


def test_reload_in_fresh_process_gives_same_predictions(trained):
    cwd, summary, _ = trained
    proc = run_cli(["evaluate", "models/cnn_fashion_mnist_s0.keras", "--limit", "256"], cwd)
    evaluated = json.loads(proc.stdout)
    assert evaluated["accuracy"] == pytest.approx(summary["test"]["accuracy"], abs=1e-6)
    code = ("import sys, numpy as np; from keras_seminar.saving import load_model;"
            "from keras_seminar.datasets import load; d = load('fashion_mnist', download=False);"
            "m = load_model(sys.argv[1]); np.save(sys.argv[2], m.predict(d.x_test[:64, ..., None]"
            " / np.float32(255), verbose=0))")
    outs = []
    for i in range(2):
        out = cwd / f"pred{i}.npy"
        subprocess.run([sys.executable, "-c", code, "models/cnn_fashion_mnist_s0.keras", str(out)],
                       cwd=cwd, check=True, capture_output=True)
        outs.append(np.load(out))
    np.testing.assert_allclose(outs[0], outs[1], atol=1e-6)
    assert outs[0].shape == (64, 10) and np.allclose(outs[0].sum(-1), 1, atol=1e-4)


@pytest.mark.parametrize("args, message", [
    (["train", "--model", "vgg19"], "Unknown model 'vgg19'"),
    (["train", "--dataset", "cifar10"], "invalid choice: 'cifar10'"),
    (["train", "--epochs", "0"], "expected a positive integer, got '0'"),
    (["train", "--batch-size", "-3"], "expected a positive integer, got '-3'"),
    (["train", "--lr", "nan"], "expected a positive finite number, got 'nan'"),
    (["train", "--validation-split", "0.9"], "expected a number in [0, 0.5], got '0.9'"),
    (["train", "--options", "[1]"], "expected a JSON object"),
    (["train", "--run-name", "../escape"], "run_name='../escape'"),
    (["evaluate", "nothing.keras"], "No model file at 'nothing.keras'"),
    (["evaluate", "model.h5"], "Only .keras files are loaded"),
])
def test_user_errors_are_one_clear_line(args, message, tmp_path):
    proc = run_cli(args, tmp_path, check=False)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
