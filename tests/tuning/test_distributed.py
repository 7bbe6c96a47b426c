"""One chief and two workers on loopback (KerasTuner's gRPC engine) finish a small search."""

import os

import pytest

from tuning import distributed
from tuning.search import search


def test_chief_and_two_workers_on_loopback(tmp_path, fashion):
    result = search("softmax", tuner="bayesian", max_trials=4, epochs=1, train_limit=256,
                    val_limit=128, directory=str(tmp_path), workers=2, verbose=0)
    assert result["trials"] == 4 and result["statuses"]["COMPLETED"] == 4
    assert [w["returncode"] for w in result["workers"]] == [0, 0]
    assert sum(w["trials"] for w in result["workers"]) == 4
    assert all(w["trials"] >= 1 for w in result["workers"])  # both took part
    assert os.path.exists(result["model_path"])
    logs = os.listdir(os.path.join(result["project_dir"], "workers"))
    assert sorted(logs) == ["tuner0.log", "tuner1.log"]


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
