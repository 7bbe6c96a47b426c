"""The backend a process gets when its user chose none (keras_seminar.backend.choice)."""

import json
import os
import subprocess
import sys

import pytest

from keras_seminar.backend import choice as _backend_choice
from tests._backends import installed


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """No user choice: no $KERAS_BACKEND, an empty KERAS_HOME, Keras not imported yet."""
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    monkeypatch.setitem(_backend_choice._CHOICE, "backend", None)
    return tmp_path


def _pretend_installed(monkeypatch, *names):
    monkeypatch.setattr(_backend_choice, "installed", lambda name: name in names)


def test_keras_default_kept_where_tensorflow_is_installed(fresh, monkeypatch):
    _pretend_installed(monkeypatch, "tensorflow", "jax")
    assert _backend_choice.choose() is None and "KERAS_BACKEND" not in os.environ


def test_without_tensorflow_the_first_installed_fallback_is_taken_and_said(fresh, monkeypatch):
    _pretend_installed(monkeypatch, "torch")
    assert _backend_choice.choose() == "torch" and os.environ["KERAS_BACKEND"] == "torch"
    backend, reason = _backend_choice.chosen()
    assert backend == "torch" and "not installed" in reason


def test_keras_json_written_by_keras_is_not_a_choice_but_another_backend_is(fresh, monkeypatch):
    _pretend_installed(monkeypatch, "jax")
    (fresh / "keras.json").write_text(json.dumps({"backend": "tensorflow"}))
    assert _backend_choice.choose() == "jax"
    monkeypatch.delenv("KERAS_BACKEND")
    (fresh / "keras.json").write_text(json.dumps({"backend": "torch"}))
    assert _backend_choice.choose() is None and "KERAS_BACKEND" not in os.environ


def test_a_users_choice_and_an_imported_keras_are_left_alone(fresh, monkeypatch):
    _pretend_installed(monkeypatch, "jax")
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert _backend_choice.choose() is None and os.environ["KERAS_BACKEND"] == "torch"
    monkeypatch.delenv("KERAS_BACKEND")
    monkeypatch.setitem(sys.modules, "keras", object())
    assert _backend_choice.choose() is None and "KERAS_BACKEND" not in os.environ


def test_nothing_installed_leaves_keras_to_say_so(fresh, monkeypatch):
    _pretend_installed(monkeypatch)
    assert _backend_choice.choose() is None


def test_a_fresh_process_without_a_choice_imports(tmp_path):
    """In this environment, whatever it holds: TensorFlow where installed, else a fallback."""
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["KERAS_HOME"] = str(tmp_path)
    code = "import keras_seminar, keras; print(keras.backend.backend())"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True)
    expected = "tensorflow" if installed("tensorflow") else next(
        b for b in _backend_choice.FALLBACKS if installed(b))
    assert proc.stdout.strip() == expected


@pytest.mark.parametrize("backend, on_cpu, user_chose, expected", [
    ("tensorflow", True, False, "backend tensorflow, Keras's default and the fastest"),
    ("tensorflow", True, True, None),
    ("tensorflow", False, False, None),
    ("jax", False, True, None),
    ("torch", True, True, None),
])
def test_notice_says_what_was_taken(backend, on_cpu, user_chose, expected, monkeypatch):
    monkeypatch.setitem(_backend_choice._CHOICE, "backend", None)
    line = _backend_choice.notice(backend, on_cpu, user_chose)
    assert line == expected if expected is None else expected in line


def test_notice_for_jax_on_a_cpu_names_the_faster_installed_backend(monkeypatch):
    monkeypatch.setitem(_backend_choice._CHOICE, "backend", None)
    _pretend_installed(monkeypatch, "tensorflow", "jax")
    assert "KERAS_BACKEND=tensorflow" in _backend_choice.notice("jax", True, True)
    _pretend_installed(monkeypatch, "jax")
    assert _backend_choice.notice("jax", True, True) is None  # nothing faster to offer


def test_notice_when_the_package_picked(fresh, monkeypatch):
    _pretend_installed(monkeypatch, "jax")
    _backend_choice.choose()
    assert "using the jax backend (TensorFlow" in _backend_choice.notice("jax", True, False)
