"""Shipped models by name: lookup order, download with the card's sha256, the CLI's name form."""

import json
import os
import sys

import numpy as np
import pytest

from keras_seminar.cli import main
from keras_seminar.models import pretrained, pretrained_path
from keras_seminar.models._shipped import SHIPPED
from keras_seminar.saving import ModelFileError
from tests._weights_server import SHIPPED as SHIPPED_DIR
from tests._weights_server import STEM, serve, weights_folder

_pretrained = sys.modules["keras_seminar.models._pretrained"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(weights_folder(tmp_path_factory.mktemp("weights"))) as url:
        yield url


@pytest.fixture
def pip_user(tmp_path, monkeypatch):
    """No checkout to find models in, an empty `$KERAS_HOME`: what a pip install sees."""
    monkeypatch.setattr(_pretrained, "checkout_dir", lambda: None)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path / "keras_home" / "keras_seminar"


def test_shipped_index_matches_the_cards_in_saved_models():
    cards = _pretrained.cards_in(SHIPPED_DIR)
    assert SHIPPED == cards, ("keras_seminar/models/_shipped.py is out of date; set SHIPPED to "
                              + json.dumps(cards, indent=4))


def test_a_checkout_finds_saved_models_first():
    assert pretrained_path("softmax", "fashion_mnist") == os.path.join(SHIPPED_DIR, STEM + ".keras")


def test_download_checks_the_sha256_then_caches_and_loads(pip_user, server, monkeypatch):
    monkeypatch.setenv("KERAS_SEMINAR_WEIGHTS_URL", server + "/good/")
    model = pretrained("softmax", "fashion_mnist")
    assert model.compiled and model.output_shape == (None, 10)
    assert sorted(os.listdir(pip_user)) == [STEM + ".json", STEM + ".keras"]  # no temp left
    with open(os.path.join(SHIPPED_DIR, STEM + ".keras"), "rb") as f:
        assert (pip_user / (STEM + ".keras")).read_bytes() == f.read()
    # Cached: found again with the server unreachable.
    monkeypatch.setenv("KERAS_SEMINAR_WEIGHTS_URL", "http://127.0.0.1:9/nothing")
    again = pretrained("softmax", "fashion_mnist")
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_tampered_download_is_refused_in_one_line_and_not_cached(pip_user, server, monkeypatch):
    monkeypatch.setenv("KERAS_SEMINAR_WEIGHTS_URL", server + "/bad")
    with pytest.raises(ModelFileError, match=r"^Refused the download, nothing was cached: .* has sha256 \w+, but its card ") as e:
        pretrained("softmax", "fashion_mnist")
    assert "\n" not in str(e.value) and f"{server}/bad/{STEM}.keras" in str(e.value)
    assert os.listdir(pip_user) == []


def test_a_missing_download_names_the_url_and_the_fix(pip_user, server, monkeypatch):
    monkeypatch.setenv("KERAS_SEMINAR_WEIGHTS_URL", server + "/nowhere")
    with pytest.raises(ModelFileError, match=r"Could not download .*/nowhere/softmax_fashion_"
                                             r"mnist\.json \(.*404.*KERAS_SEMINAR_WEIGHTS_URL"):
        pretrained_path("softmax", "fashion_mnist")
    assert os.listdir(pip_user) == []


def test_bad_names():
    with pytest.raises(ValueError, match="Unknown model name 'nope'"):
        pretrained("nope", "mnist")
    with pytest.raises(ValueError, match="Unknown dataset 'cifar10'"):
        pretrained("cnn", "cifar10")
    assert _pretrained.split_name("fast_cnn_fashion_mnist") == ("fast_cnn", "fashion_mnist")
    assert _pretrained.split_name("cnn_mnist") == ("cnn", "mnist")
    with pytest.raises(ModelFileError, match="Received: 'cnn_cifar10'"):
        _pretrained.split_name("cnn_cifar10")


def test_cli_models_lists_weights_and_accuracy(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    fast_cnn = out[out.index("\nfast_cnn "):].splitlines()[2]
    assert "pretrained (test accuracy): fashion_mnist 92.38%" in fast_cnn
    assert "KERAS_SEMINAR_WEIGHTS_URL" in out


def test_cli_evaluates_a_downloaded_model_by_name(pip_user, server, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_SEMINAR_WEIGHTS_URL", server + "/bad")
    assert main(["evaluate", STEM, "--limit", "64"]) == 2
    err = capsys.readouterr().err  # also get_file's "Downloading data from ..." and progress
    errors = [line for line in err.splitlines() if line.startswith("keras-seminar: error:")]
    assert len(errors) == 1 and "nothing was cached" in errors[0] and "Traceback" not in err
    monkeypatch.setenv("KERAS_SEMINAR_WEIGHTS_URL", server + "/good")
    assert main(["evaluate", STEM, "--limit", "64"]) == 0
    result = json.loads(capsys.readouterr().out)  # stdout holds only the JSON
    assert result["model"] == str(pip_user / (STEM + ".keras")) and result["examples"] == 64
    assert result["accuracy"] > 0.5 and result["card_accuracy"] == SHIPPED[STEM]
