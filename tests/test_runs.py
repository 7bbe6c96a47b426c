"""A run's files tell the truth: re-runs, resumes, locks, stale temp files and the HParams session."""

import dataclasses
import json
import os
import shutil
import subprocess
import sys

import pytest

from keras_seminar import _io, cli
from keras_seminar.errors import LockedError, RunConflict
from keras_seminar.hparams import read_sessions
from keras_seminar.training import TrainConfig, train

NAME = "softmax_mnist_s0"


def _config(root, **overrides):
    base = dict(model="softmax", dataset="mnist", epochs=2, batch_size=32, train_limit=1024,
                test_limit=128, validation_split=0.01, runs_dir=str(root / "runs"), verbose=0)
    return TrainConfig(**{**base, **overrides})


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 2-epoch run; tests copy it before changing anything."""
    root = tmp_path_factory.mktemp("finished")
    return root, train(_config(root))


@pytest.fixture
def run(finished, tmp_path):
    shutil.copytree(finished[0] / "runs", tmp_path / "runs")
    return tmp_path, finished[1]


def _files(root):
    return {p: (os.path.getmtime(p), _io.sha256_file(p))
            for p in map(str, root.rglob("*")) if os.path.isfile(p)}


def test_a_finished_run_is_reported_and_nothing_is_rewritten(run, capsys):
    root, first = run
    before = _files(root)
    again = train(_config(root))
    model_path = root / "runs" / NAME / f"{NAME}.keras"
    assert again["model_path"] == str(model_path)  # the copy's own file, verified by sha256
    assert {**again, "model_path": None} == {**first, "model_path": None}
    assert again["epochs"] == 2 and len(again["history"]["loss"]) == 2
    assert _files(root) == before
    assert f"{NAME} already finished 2 epochs: nothing was trained or rewritten" in capsys.readouterr().err


def test_more_epochs_train_only_the_missing_ones(run, capsys):
    root, first = run
    result = train(_config(root, epochs=3))
    assert "resuming softmax_mnist_s0 from epoch 2 of 3" in capsys.readouterr().err
    metrics = json.loads((root / "runs" / NAME / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and len(metrics["history"]["loss"]) == 3  # the whole history
    assert metrics["history"]["loss"][:2] == first["history"]["loss"]
    assert metrics["train_seconds"] > first["train_seconds"]  # summed over both parts
    card = json.loads((root / "runs" / NAME / f"{NAME}.json").read_text())
    assert card["epochs"] == 3 and card["sha256"] == result["sha256"]


@pytest.mark.parametrize("overrides, named", [
    ({"epochs": 1}, "already trained 2 epochs; this command asks for 1"),
    ({"learning_rate": 0.5}, "recipe.learning_rate=0.001, but this command asks for recipe.learning_rate=0.5"),
    ({"model": "lenet5", "run_name": NAME}, "model='softmax', but this command asks for model='lenet5'"),
    ({"model_options": {"kernel_regularizer": "l2"}}, "model_options.kernel_regularizer=None"),
    ({"test_limit": 64}, "evaluated with test_limit=128, not 64"),
])
def test_a_command_that_disagrees_with_the_backup_is_refused(run, overrides, named):
    root, _ = run
    before = _files(root)
    with pytest.raises(RunConflict, match=named) as info:
        train(_config(root, **overrides))
    assert "resume=False" in str(info.value) and "\n" not in str(info.value)
    assert _files(root) == before


def test_a_decaying_schedule_is_not_extended(tmp_path, monkeypatch):
    from keras_seminar.training import plan as plan_module

    real = plan_module.get_spec

    def cosine_spec(name):
        spec = real(name)
        return dataclasses.replace(spec, recipe=dataclasses.replace(spec.recipe, schedule="cosine"))

    monkeypatch.setattr(plan_module, "get_spec", cosine_spec)
    train(_config(tmp_path, epochs=1, train_limit=256))
    with pytest.raises(RunConflict, match="cosine schedule over 1 epochs; 2 epochs need"):
        train(_config(tmp_path, epochs=2, train_limit=256))
    result = train(_config(tmp_path, epochs=2, train_limit=256, resume=False))
    assert len(result["history"]["loss"]) == 2


def test_cli_refuses_another_model_on_a_run_in_one_line(run, capsys):
    root, _ = run
    status = cli.main(["train", "--model", "lenet5", "--dataset", "mnist", "--run-name", NAME,
                       "--runs-dir", str(root / "runs"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert err.startswith("keras-seminar: error: Run 'softmax_mnist_s0' was trained with model='softmax'")
    assert "--no-resume" in err and "another --run-name" in err


def test_a_corrupt_backup_state_is_named_with_its_fix(run, capsys):
    root, _ = run
    state = root / "runs" / NAME / "backup" / "state.json"
    state.write_text("{not json")
    with pytest.raises(RunConflict, match=r"state.json is corrupted .*resume=False"):
        train(_config(root))
    status = cli.main(["train", "--model", "softmax", "--dataset", "mnist", "--epochs", "2",
                       "--runs-dir", str(root / "runs"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and str(state) in err and "--no-resume" in err


def test_a_live_lock_refuses_and_a_dead_ones_is_taken_over(run, capsys):
    root, first = run
    lock = root / "runs" / f"{NAME}.lock"
    lock.write_text(json.dumps({"pid": os.getppid(), "host": ""}))  # a live process
    with pytest.raises(LockedError, match=f"{NAME} is in use by process {os.getppid()}"):
        train(_config(root))
    status = cli.main(["train", "--model", "softmax", "--dataset", "mnist", "--runs-dir",
                       str(root / "runs"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "in use by process" in err
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    lock.write_text(json.dumps({"pid": int(dead), "host": ""}))  # its process has exited
    assert train(_config(root))["sha256"] == first["sha256"]
    assert not lock.exists()  # released


def test_the_model_file_is_locked_too(run):
    root, _ = run
    model_lock = root / "runs" / NAME / f"{NAME}.keras.lock"
    model_lock.write_text(json.dumps({"pid": os.getppid(), "host": ""}))
    with pytest.raises(LockedError, match=f"{NAME}.keras is in use"):
        train(_config(root))


def test_stale_temp_files_are_cleaned_at_the_next_run(run):
    root, _ = run
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    backup = root / "runs" / NAME / "backup"
    stale = [backup / f".state.json{_io.TMP_TAG}{dead}-0badc0de",
             backup / ".epoch-00002.weights.h5.partial.weights.h5",  # older versions' names
             backup / "state.json.x1y2.tmp",
             root / "runs" / NAME / f".{NAME}.keras.partial.keras"]
    for path in stale:
        path.write_bytes(b"left by a killed run")
    train(_config(root))
    assert not any(p.exists() for p in stale)


def test_each_run_is_an_hparams_session(finished):
    root, result = finished
    session = read_sessions(root / "runs")[NAME]
    assert session["status"] == "STATUS_SUCCESS"
    assert session["hparams"]["model"] == "softmax" and session["hparams"]["dataset"] == "mnist"
    assert session["hparams"]["recipe.learning_rate"] == pytest.approx(1e-3)
    assert session["hparams"]["recipe.batch_size"] == "32"  # integers as written, not 32.0
    assert session["hparams"]["monitors"] == "none"
    assert session["hparams"]["train_limit"] == "1024" and session["hparams"]["test_limit"] == "128"
    assert {"test/accuracy", "test/loss", "final/loss"} <= set(session["scalars"])
