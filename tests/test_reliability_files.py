"""What the package's model files survive: kills during saves, tampered, truncated or unsafe
files, models of the wrong shape or without a card, and OS errors, which the CLI reports in one
line. Training runs (kill -9, NaN, bad configs): test_reliability_training.py."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_seminar import cli, saving
from tests._subprocess import run_cli


def _tiny_model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))


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


def test_evaluate_refuses_a_model_of_other_classes(tmp_path, capsys):
    from keras_seminar.training import evaluate_saved

    inputs = keras.Input((28, 28, 1))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(
        keras.layers.Flatten()(inputs)))
    path = str(tmp_path / "three.keras")
    saving.save_model(model, path, card={"dataset": "mnist"})
    with pytest.raises(ValueError, match="predicts 3 classes, but mnist has 10"):
        evaluate_saved(path, "mnist", limit=16)
    assert cli.main(["evaluate", path, "--limit", "16"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "predicts 3 classes, but mnist has 10" in err


def test_no_oserror_escapes_the_cli(monkeypatch, capsys):
    def broken(args):
        raise PermissionError(13, "Permission denied", "/root/secret")

    monkeypatch.setitem(cli.COMMANDS, "models", broken)
    assert cli.main(["models"]) == 2
    err = capsys.readouterr().err
    assert err == "keras-seminar: error: [Errno 13] Permission denied: '/root/secret'\n"


def test_save_model_rejects_other_formats(tmp_path):
    with pytest.raises(ValueError, match=r"ending in .keras. Received: path='.*m.h5'"):
        saving.save_model(_tiny_model(), str(tmp_path / "m.h5"))


def test_evaluate_needs_the_card_unless_told(tmp_path, capsys):
    inputs = keras.Input((28, 28, 1))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(
        keras.layers.Flatten()(inputs)))
    path = str(tmp_path / "nocard.keras")
    model.save(path)  # plain Keras: no card
    assert cli.main(["evaluate", path, "--dataset", "mnist", "--limit", "16"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no model card" in err and "--no-card" in err
    assert cli.main(["evaluate", path, "--dataset", "mnist", "--limit", "16", "--no-card"]) == 0
    assert json.loads(capsys.readouterr().out)["examples"] == 16
