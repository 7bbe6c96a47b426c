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
def test_user_errors_are_one_clear_line(args, message, tmp_path, capsys, monkeypatch):
    # In-process (a fresh interpreter per case cost 5 s each); the subprocess test below shows
    # the same holds from the shell.
    from keras_seminar import cli

    monkeypatch.chdir(tmp_path)
    try:
        status = cli.main([*args, "--quiet"] if args[0] == "train" else args)
    except SystemExit as e:  # argparse's own refusals
        status = e.code
    err = capsys.readouterr().err
    assert status == 2, err
    assert message in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_user_error_from_the_shell_is_one_line_and_exit_2(tmp_path):
    proc = run_cli(["train", "--model", "vgg19"], tmp_path, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "Unknown model 'vgg19'" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr


@pytest.mark.parametrize("options, named", [
    ('{"input_shape": [3]}', "model_options without input_shape"),
    ('{"num_classes": 3}', "model_options without num_classes"),
    ('{"no_such_option": 1}', "does not take option 'no_such_option'"),
])
def test_reserved_or_unknown_options_are_one_line(options, named, tmp_path, capsys):
    from keras_seminar import cli

    status = cli.main(["train", "--model", "softmax", "--options", options,
                       "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and named in err
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_help_lists_the_commands_and_choices_from_their_modules():
    from keras_seminar import cli, datasets
    from keras_seminar.callbacks.monitors import MONITORS
    from keras_seminar.training import PRECISIONS

    parser = cli.build_parser()
    text = " ".join(parser.format_help().split())  # argparse wraps lines
    assert "as they land" not in text and "tune and run experiments" in text
    train_help = parser._subparsers._group_actions[0].choices["train"].format_help()
    for name in (*datasets.DATASETS, *PRECISIONS, *MONITORS):
        assert name in train_help


def test_tensorflow_start_up_notices_are_filtered():
    from keras_seminar.backend.quiet import filter_lines

    text = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            "I0000 00:00:17.1 1 port.cc:153] oneDNN custom operations are on. You may see ...\n"
            "I0000 00:00:17.2 1 cpu_feature_guard.cc:227] This TensorFlow binary is optimized\n"
            "To enable the following instructions: AVX2, in other operations, rebuild.\n"
            "W0000 00:00:17.3 1 some.cc:1] a warning\n"
            "E0000 00:00:17.4 1 some.cc:2] an error\n"
            "a line of the user's own\n")
    assert filter_lines(text, 2) == ("E0000 00:00:17.4 1 some.cc:2] an error\n"
                                     "a line of the user's own\n")
    assert filter_lines(text, 1).startswith("W0000") and filter_lines(text, 0) == text


@pytest.mark.tensorflow
def test_one_onednn_notice_at_most(tmp_path):
    """In a fresh process, importing TensorFlow the package's way prints no oneDNN notice at the
    package's default level; a user's own TF_CPP_MIN_LOG_LEVEL=0 still sees TensorFlow's lines."""
    import os

    code = ("import runpy, sys; q = runpy.run_path(sys.argv[1]); q['import_tensorflow_quietly']();"
            "import tensorflow")
    quiet = os.path.join(os.path.dirname(os.path.dirname(__file__)), "keras_seminar", "backend", "quiet.py")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-c", code, quiet], capture_output=True, text=True,
                          env=env, cwd=tmp_path, check=True)
    assert proc.stderr.count("oneDNN") == 0, proc.stderr
