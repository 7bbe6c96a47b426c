"""search(): outputs, HParams sessions, NaN trials, and resuming after a real SIGKILL."""

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time

import keras_tuner
import pytest
from keras_seminar.tuning.oracle import make_oracle
from keras_seminar.tuning.report import print_table
from keras_seminar.tuning.search import search
from keras_seminar.tuning.trial_check import trial_problems

from keras_seminar import regularizers, saving
from keras_seminar.hparams import read_sessions

SMALL = {"dataset": "fashion_mnist", "epochs": 1, "train_limit": 512, "val_limit": 256,
         "verbose": 0}


def _trials(project_dir):
    with open(os.path.join(project_dir, "trials.csv")) as f:
        return list(csv.DictReader(f))


def _stale_temp(folder):
    """A temp file of a writer killed mid-write: its pid is dead, its mtime an hour old."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f".oracle.json.ks-tmp-{dead}-deadbeef")
    with open(path, "w") as f:
        f.write("{")
    os.utime(path, (time.time() - 3600, time.time() - 3600))
    return path


@pytest.fixture(scope="module")
def two_trials(tmp_path_factory, fashion):
    directory = tmp_path_factory.mktemp("search")
    stale = _stale_temp(os.path.join(directory, "softmax_fashion_mnist_bayesian_s1"))
    result = search("softmax", tuner="bayesian", max_trials=2, seed=1, directory=str(directory),
                    fixed={"regularizer": "l12"}, **SMALL)
    assert not os.path.exists(stale)  # a killed writer's leftover is cleaned on the next run
    return result


def test_outputs(two_trials):
    result = two_trials
    out = result["project_dir"]
    assert result["trials"] == 2 and result["statuses"]["COMPLETED"] == 2
    with open(os.path.join(out, "best_hyperparameters.json")) as f:
        best = json.load(f)["best"]
    rows = _trials(out)
    assert [r["trial_id"] for r in rows] == ["0", "1"]
    assert {"trial_id", "status", "score", "learning_rate", "batch_size",
            "regularizer_strength"} <= set(rows[0])
    assert best["score"] == max(float(r["score"]) for r in rows)
    assert best["hyperparameters"]["regularizer"] == "l12"
    model = saving.load_model(result["model_path"])  # verified against its card's sha256
    dense = [layer for layer in model.layers if getattr(layer, "kernel_regularizer", None)][0]
    assert isinstance(dense.kernel_regularizer, regularizers.L12)
    assert dense.kernel_regularizer.factor == pytest.approx(best["hyperparameters"]["regularizer_strength"])


def test_hparams_dashboard(two_trials):
    sessions = read_sessions(os.path.join(two_trials["project_dir"], "tensorboard"))
    assert sorted(sessions) == ["0", "1"]
    for session in sessions.values():
        assert session["status"] == "STATUS_SUCCESS"
        assert {"learning_rate", "batch_size", "regularizer_strength"} <= set(session["hparams"])
        assert {"val_accuracy", "score"} <= set(session["scalars"])
    row = {r["trial_id"]: r for r in _trials(two_trials["project_dir"])}["1"]
    assert sessions["1"]["hparams"]["learning_rate"] == pytest.approx(float(row["learning_rate"]))


def test_diverged_trial_is_failed_not_best_and_one_quiet_line(tmp_path, fashion, capfd):
    # Two configurations only: no penalty, or an L2 penalty so large that the loss is inf.
    result = search("softmax", tuner="random", max_trials=2, directory=str(tmp_path),
                    fixed={"learning_rate": 1e-3, "batch_size": 64, "nonneg": False,
                           "regularizer_strength": 1e38},
                    space={"regularizer": ["none", "l2"]}, **SMALL)
    rows = {r["regularizer"]: r for r in _trials(result["project_dir"])}
    assert rows["l2"]["status"] == "FAILED" and rows["none"]["status"] == "COMPLETED"
    assert result["best"]["trial_id"] == rows["none"]["trial_id"]
    sessions = read_sessions(os.path.join(result["project_dir"], "tensorboard"))
    assert sessions[rows["l2"]["trial_id"]]["status"] == "STATUS_FAILURE"
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "trial " not in out  # quiet: no progress lines
    rejected = [line for line in err.splitlines() if "rejected" in line]
    assert len(rejected) == 1 and "Not a result: " in rejected[0] and "loss=inf" in rejected[0]


def test_absurd_learning_rate_is_failed_not_best_with_progress_lines(tmp_path, fashion, capfd):
    # lr 1 does not give NaN here: the loss stays finite but rises (and would pass unnoticed).
    result = search("softmax", tuner="random", max_trials=2, directory=str(tmp_path),
                    fixed={"batch_size": 64, "nonneg": False, "regularizer": "none"},
                    space={"learning_rate": [1e-3, 1]}, **{**SMALL, "epochs": 2, "verbose": 1})
    rows = {float(r["learning_rate"]): r for r in _trials(result["project_dir"])}
    assert rows[1.0]["status"] == "FAILED" and rows[1e-3]["status"] == "COMPLETED"
    assert result["best"]["trial_id"] == rows[1e-3]["trial_id"]
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    lines = [line for line in (out + err).splitlines() if re.match(r"trial \d+/", line)]
    assert [line.split()[1] for line in lines] == ["1/2", "2/2"]  # trial k/N, one per trial
    assert "ETA" in lines[0] and "ETA" not in lines[1]  # the last has nothing left to wait for
    assert any("rejected: Not a result: the training loss rose" in line for line in lines)
    assert f"best {float(rows[1e-3]['score']):.4f}" in lines[-1]  # the best so far
    assert "Search summary: 2 trials, best 2 of 2 by val_accuracy" in out


def test_summary_table_shows_every_trial_and_whole_names(capsys):
    rows = [{"trial_id": str(i), "status": "COMPLETED", "score": 0.5 + i / 10, "tuner": "",
             "regularizer_strength": 1e-4 * (i + 1), "augment_translate": 0.1} for i in range(3)]
    print_table(rows, "val_accuracy")
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "Search summary: 3 trials, best 3 of 3 by val_accuracy"
    assert out[2].split() == ["trial", "status", "val_accuracy", "regularizer_strength", "augment_translate"]
    assert [line.split()[0] for line in out[3:]] == ["2", "1", "0"]  # best first


def test_bad_space_is_one_line_before_any_trial(tmp_path, capsys):
    from keras_seminar.cli import main

    for space in ('{"learning_rate": [1, 10]}', '{"batch_size": [64, 0]}', '{"dropout": "high"}'):
        code = main(["tune", "--model", "cnn", "--directory", str(tmp_path), "--space", space])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and "Received:" in err, err
    assert os.listdir(tmp_path) == []  # nothing loaded, nothing written


def test_trial_problems_rule():
    good = {"loss": [2.0, 1.0], "val_accuracy": [0.5, 0.8]}
    assert trial_problems(good, 10) == []
    assert "rose" in trial_problems({"loss": [1.0, 2.0], "val_accuracy": [0.5, 0.8]}, 10)[0]
    assert "validation accuracy 0.1200 is at chance" in trial_problems(
        {"loss": [2.0, 1.0], "val_accuracy": [0.1, 0.12]}, 10)[0]
    assert trial_problems({"loss": [2.0, 1.0], "val_accuracy": [0.1, 0.13]}, 10) == []


def test_non_finite_score_never_becomes_best(tmp_path):
    oracle = make_oracle("bayesian", keras_tuner.Objective("val_loss", "min"), 3, 1, 0)
    oracle._set_project_dir(str(tmp_path), "p")
    oracle.hyperparameters.Float("x", 0, 1)
    scores = {}
    for value in (float("inf"), 0.5):
        trial = oracle.create_trial("tuner0")
        oracle.update_trial(trial.trial_id, {"val_loss": value})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
        scores[trial.trial_id] = oracle.get_trial(trial.trial_id).status
    assert list(scores.values()) == ["FAILED", "COMPLETED"]
    assert oracle.get_best_trials(1)[0].score == 0.5


def _ended(project_dir):
    """Trials that ran to an end: COMPLETED, or FAILED by the health rule (e.g. a 2-step trial
    at chance), with their scores and values."""
    done = {}
    for name in os.listdir(project_dir) if os.path.isdir(project_dir) else ():
        path = os.path.join(project_dir, name, "trial.json")
        if name.startswith("trial_") and os.path.exists(path):
            with open(path) as f:
                state = json.load(f)
            if state["status"] in ("COMPLETED", "FAILED"):
                done[state["trial_id"]] = (state["status"], state["score"],
                                           state["hyperparameters"]["values"])
    return done


def test_resume_after_sigkill(tmp_path):
    args = [sys.executable, "-m", "keras_seminar", "tune", "--model", "softmax", "--tuner", "random",
            "--max-trials", "4", "--epochs", "1", "--train-limit", "512", "--val-limit", "256",
            "--directory", str(tmp_path), "--project-name", "p", "--quiet"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    project_dir = str(tmp_path / "p")
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not _ended(project_dir) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the search ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    before = _ended(project_dir)
    assert 1 <= len(before) < 4
    resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Reloading Tuner" in resumed.stdout
    after = _ended(project_dir)
    assert len(after) == 4  # every trial once: none lost, none run twice
    assert sum(status == "COMPLETED" for status, _, _ in after.values()) >= 2
    for trial_id, record in before.items():
        assert after[trial_id] == record  # not re-run
    assert json.loads(resumed.stdout[resumed.stdout.index("{"):].split("\nTensorBoard")[0])["trials"] == 4
