"""SearchConfig: checked once, exact JSON round trip (ranges stay ranges), safe project names."""

import json
import os

import pytest
from keras_seminar.tuning import config as config_module
from keras_seminar.tuning import oracle
from keras_seminar.tuning.config import TUNERS, SearchConfig
from keras_seminar.tuning.worker import main as worker_main

from keras_seminar.errors import UsageError


def test_json_round_trip_keeps_ranges_and_choices():
    config = SearchConfig("cnn", "mnist", tuner="random", max_trials=3, epochs=1,
                          space={"learning_rate": (1e-4, 1e-2), "batch_size": [32, 64]},
                          fixed={"dropout": 0.5}, workers=2)
    text = config.to_json()
    again = SearchConfig.from_json(text)
    assert again == config
    assert isinstance(again.space["learning_rate"], tuple) and isinstance(again.space["batch_size"], list)
    nested = {"x": [(1, 2), [3, (4,)]]}
    assert json.loads(json.dumps(config_module._encode(nested)), object_hook=config_module._decode) == nested
    assert SearchConfig.from_json(SearchConfig().to_json()) == SearchConfig()
    assert json.loads(text)["space"]["learning_rate"] == {"__tuple__": [1e-4, 1e-2]}


def test_defaults_and_worker_config():
    config = SearchConfig("softmax", workers=2, overwrite=True, directory="runs")
    assert config.project_name == "softmax_fashion_mnist_bayesian_s0"
    worker = config.for_worker()
    assert (worker.workers, worker.overwrite, worker.verbose) == (0, False, 2)
    assert worker.directory == os.path.abspath("runs") and worker.space == config.space
    assert set(oracle.ORACLES) == set(TUNERS)


@pytest.mark.parametrize("project_name", ["../../x", "a/b", "..", ".hidden", "", "x" * 200, 3])
def test_project_name_is_one_folder_name(project_name):
    with pytest.raises(UsageError, match=r"Expected project_name of letters, digits.* Received: project_name="):
        SearchConfig("softmax", project_name=project_name)


@pytest.mark.parametrize("kwargs, match", [
    ({"model_name": "vgg"}, "Unknown model 'vgg'"),
    ({"dataset": "cifar10"}, "Unknown dataset 'cifar10'"),
    ({"tuner": "grid"}, "Unknown tuner 'grid'"),
    ({"max_trials": 0}, "Received: max_trials=0"),
    ({"epochs": 1.5}, "Received: epochs=1.5"),
    ({"workers": -1}, "Received: workers=-1"),
    ({"seed": True}, "Received: seed=True"),
    ({"space": [1, 2]}, r"Received: space=\[1, 2\]"),
    ({"space": {"learning_rate": (1, 10)}}, r"Received: learning_rate=10.0 \(from space\['learning_rate'\]\)"),
    ({"fixed": {"width": 2.0}}, "Unknown hyperparameter 'width' in fixed for model 'softmax'"),
    ({"verbose": 3}, "Received: verbose=3"),
    ({"directory": None}, "Received: directory=None"),
])
def test_bad_fields_name_the_value(kwargs, match):
    with pytest.raises(UsageError, match=match):
        SearchConfig(**{"model_name": "softmax", **kwargs})


@pytest.mark.parametrize("text, match", [
    ("not json", "Expected a SearchConfig as JSON text"),
    ("[1]", "as a JSON object"),
    ('{"model_name": "softmax", "colour": 1}', r"Unknown SearchConfig fields \['colour'\]"),
])
def test_from_json_refuses_what_it_did_not_write(text, match):
    with pytest.raises(UsageError, match=match):
        SearchConfig.from_json(text)


def test_worker_usage(capsys):
    assert worker_main([]) == 2
    assert "python -m keras_seminar.tuning.worker CONFIG_JSON" in capsys.readouterr().err


def test_cli_refuses_a_project_name_with_a_path(tmp_path, capsys):
    from keras_seminar.cli import main

    code = main(["tune", "--model", "softmax", "--directory", str(tmp_path), "--project-name", "../../x"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "project_name='../../x'" in err and len(err.splitlines()) == 1
    assert os.listdir(tmp_path) == []
