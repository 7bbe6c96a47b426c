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

from keras_seminar import _io, cli, saving
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
    with pytest.raises(saving.ModelFileError, match=r"sha256 .* but its card .*m.json says 0000.*Re-run the command that saved it"):
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


def _mnist_model(seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((28, 28, 1))
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(
        keras.layers.Flatten()(inputs)))


def test_a_swapped_older_model_file_is_refused(tmp_path, capsys):
    """A card describes exactly one file: its older model copied back is refused, in one line,
    by load_model and by `evaluate` (which would print the card's accuracy beside another)."""
    path = tmp_path / "m.keras"
    saving.save_model(_mnist_model(0), str(path), card={"dataset": "mnist"})
    older = path.read_bytes()
    card = saving.save_model(_mnist_model(1), str(path), card={"dataset": "mnist",
                                                                "test": {"accuracy": 0.9}})
    path.write_bytes(older)
    expected = (rf"{path} has sha256 [0-9a-f]{{64}}, but its card {tmp_path / 'm.json'} says "
                rf"{card['sha256']}: the file was replaced.*Re-run the command that saved it")
    with pytest.raises(saving.ModelFileError, match=expected):
        saving.load_model(str(path))
    assert cli.main(["evaluate", str(path), "--limit", "16"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and card["sha256"] in err
    # A card written before saves were made kill-safe also named the file it replaced: refused
    # too, and the message says what the file is.
    legacy = {**json.loads((tmp_path / "m.json").read_text()),
              "previous_sha256": _io.sha256_file(str(path))}
    (tmp_path / "m.json").write_text(json.dumps(legacy))
    with pytest.raises(saving.ModelFileError, match="it is the older model this card's save replaced"):
        saving.load_model(str(path))


class _Killed(BaseException):
    """Stands for SIGKILL in-process: no `except Exception` handler catches it."""


# The renames of a save, in order: the model to its pending file, the card, the model into place.
KILL_POINTS = {"before the pending model": ".m.keras.pending", "before the card": "m.json",
               "before the model's rename": "m.keras"}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_save_killed_between_its_writes_leaves_the_old_pair_or_the_new(tmp_path, monkeypatch,
                                                                         point):
    """A kill just before each rename of a save: what loads is the old model with the old card,
    or the new model with the new card (the pending file is moved into place), never a card
    beside another model; the next save then completes normally."""
    path = str(tmp_path / "m.keras")
    old, new = _tiny_model(), _tiny_model()
    saving.save_model(old, path, card={"which": "old"})
    replace = os.replace

    def killed_at_the_rename(src, dst):
        if os.path.basename(dst) == KILL_POINTS[point]:
            raise _Killed
        replace(src, dst)

    monkeypatch.setattr(os, "replace", killed_at_the_rename)
    with pytest.raises(_Killed):
        saving.save_model(new, path, card={"which": "new"})
    monkeypatch.setattr(os, "replace", replace)
    which = "new" if point == "before the model's rename" else "old"
    loaded = saving.load_model(path)
    card = saving.read_card(path)
    assert card["which"] == which and card["sha256"] == _io.sha256_file(path)
    for got, want in zip(loaded.get_weights(), (new if which == "new" else old).get_weights()):
        np.testing.assert_array_equal(got, want)
    saving.save_model(new, path, card={"which": "newer"})
    assert saving.read_card(path)["which"] == "newer" and saving.load_model(path)
    assert sorted(os.listdir(tmp_path)) == ["m.json", "m.keras"]


def test_kill_9_between_the_card_and_the_rename_loads_the_new_pair(tmp_path):
    """The same instant with a real SIGKILL: the card is on disk, the model still pending."""
    path = tmp_path / "m.keras"
    saving.save_model(_tiny_model(), str(path), card={"which": "old"})
    code = ("import os, signal, sys, keras; from keras_seminar import saving\n"
            "replace = os.replace\n"
            "def kill_at_model(src, dst):\n"
            "    if dst == sys.argv[1]: os.kill(os.getpid(), signal.SIGKILL)\n"
            "    replace(src, dst)\n"
            "os.replace = kill_at_model\n"
            "i = keras.Input((4,)); m = keras.Model(i, keras.layers.Dense(3)(i))\n"
            "saving.save_model(m, sys.argv[1], card={'which': 'new'})\n")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert saving.read_card(str(path))["which"] == "new"  # the card was written, the model not
    assert _io.sha256_file(str(path)) != saving.read_card(str(path))["sha256"]
    assert saving.load_model(str(path)).count_params() == 15  # the new model, moved into place
    assert _io.sha256_file(str(path)) == saving.read_card(str(path))["sha256"]
