"""One chief and two workers on loopback (KerasTuner's gRPC engine) finish a small search."""

import json
import os
import socket

import keras_tuner
import pytest
from keras_seminar.tuning import distributed
from keras_seminar.tuning.hypermodels import ZooHyperModel
from keras_seminar.tuning.search import search
from keras_seminar.tuning.tuner import space_differences

from keras_seminar.cli import main
from keras_seminar.errors import UsageError


def test_space_ranges_with_chief_and_two_workers(tmp_path, fashion, capsys):
    # Through the CLI: `--space` JSON [min, max] is a range (a Float), which must reach the
    # workers as a range; a worker declaring a Choice instead stops with a FatalError.
    code = main(["tune", "--model", "softmax", "--tuner", "bayesian", "--max-trials", "4",
                 "--epochs", "1", "--train-limit", "256", "--val-limit", "128", "--workers", "2",
                 "--directory", str(tmp_path), "--project-name", "p", "--quiet",
                 "--space", '{"learning_rate": [0.001, 0.01], "batch_size": [32, 64]}'])
    out = capsys.readouterr().out
    assert code in (0, None)
    result = json.loads(out[out.index("{"):].split("\nTensorBoard")[0])
    assert result["trials"] == 4 and result["statuses"]["COMPLETED"] == 4
    assert [w["returncode"] for w in result["workers"]] == [0, 0]
    assert sum(w["trials"] for w in result["workers"]) == 4
    assert all(w["trials"] >= 1 for w in result["workers"])  # both took part
    assert os.path.exists(result["model_path"])
    logs = os.listdir(os.path.join(result["project_dir"], "workers"))
    assert sorted(logs) == ["tuner0.log", "tuner1.log"]
    for trial_id in range(4):
        with open(os.path.join(result["project_dir"], f"trial_{trial_id}", "trial.json")) as f:
            hps = json.load(f)["hyperparameters"]
        space = {hp["config"]["name"]: hp for hp in hps["space"]}
        assert space["learning_rate"]["class_name"] == "Float"
        assert space["batch_size"]["class_name"] == "Choice"
        assert 0.001 <= hps["values"]["learning_rate"] <= 0.01


def test_a_worker_declaring_another_space_is_caught():
    chief = ZooHyperModel("softmax", space={"learning_rate": (1e-3, 1e-2)})
    hp = keras_tuner.HyperParameters()
    chief.declare(hp)
    assert space_differences(chief, hp) == []
    lossy = ZooHyperModel("softmax", space={"learning_rate": [1e-3, 1e-2]})  # JSON's list
    assert space_differences(lossy, hp) == ["learning_rate"]


def test_roles_from_environment(monkeypatch):
    for var in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        monkeypatch.delenv(var, raising=False)
    assert distributed.role() == "local"
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    with pytest.raises(ValueError, match="KERASTUNER_ORACLE_PORT and KERASTUNER_TUNER_ID is not"):
        distributed.role()
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "8000")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    assert distributed.role() == "chief"
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner3")
    assert distributed.role() == "worker"
    with pytest.raises(ValueError, match="workers=2 launches its own chief"):
        search("softmax", workers=2, max_trials=1)


def test_worker_environment_shares_one_device():
    env = distributed.worker_environment(1, 4, "127.0.0.1", 1234)
    assert env["KERASTUNER_TUNER_ID"] == "tuner1" and env["KERASTUNER_ORACLE_PORT"] == "1234"
    if "XLA_PYTHON_CLIENT_MEM_FRACTION" not in os.environ:
        assert float(env["XLA_PYTHON_CLIENT_MEM_FRACTION"]) <= 0.25


def test_a_busy_port_or_another_chiefs_port_is_refused():
    with socket.socket() as other:  # any process holding the port
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(UsageError, match=r"cannot listen on 127.0.0.1:\d+: the port is in use"):
            distributed.listen(object(), "127.0.0.1", other.getsockname()[1])
    port = distributed.free_port()
    server, _ = distributed.listen(object(), "127.0.0.1", port)  # a first chief
    try:  # gRPC's default SO_REUSEPORT would let a second chief listen beside it
        with pytest.raises(UsageError, match="another chief's"):
            distributed.listen(object(), "127.0.0.1", port)
    finally:
        server.stop(None)


def test_cli_chief_on_a_busy_port_is_one_line(tmp_path, fashion, capsys, monkeypatch):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
        monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
        monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(other.getsockname()[1]))
        code = main(["tune", "--model", "softmax", "--max-trials", "1", "--epochs", "1",
                     "--train-limit", "128", "--val-limit", "64", "--directory", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "cannot listen" in err
