"""--set / --config overrides: parsed to the field's type, unknown keys refused, recorded."""

import dataclasses
import json

import pytest
from keras_seminar.experiments import _config, _runner

from keras_seminar.errors import UsageError


@dataclasses.dataclass
class Config:
    epochs: int = 3
    train_limit: int | None = 5000
    learning_rate: float = 1e-3
    datasets: tuple = ("mnist",)
    grid: dict = dataclasses.field(default_factory=lambda: {"l1": (1e-4,)})
    flag: bool = False
    name: str = "x"
    seeds: int = 1


def test_set_values_take_the_fields_type():
    config, overrides = _config.apply(Config(), ["epochs=40", "train_limit=none", "learning_rate=3e-3",
                                                 "datasets=mnist,fashion_mnist", "flag=true", "name=a=b",
                                                 'grid={"l1": [1e-5, 1e-4]}'])
    assert config == Config(epochs=40, train_limit=None, learning_rate=3e-3,
                            datasets=("mnist", "fashion_mnist"), grid={"l1": (1e-5, 1e-4)}, flag=True, name="a=b")
    assert overrides["train_limit"] is None and overrides["datasets"] == ("mnist", "fashion_mnist")
    assert _config.apply(Config(), ["datasets=[1, 2.5]"])[0].datasets == (1, 2.5)
    assert _config.apply(Config(), ["datasets=1,2"])[0].datasets == (1, 2)
    assert _config.apply(Config(), ["learning_rate=1"])[0].learning_rate == 1.0


def test_unknown_key_is_refused_with_the_valid_ones():
    with pytest.raises(UsageError, match=r"Unknown config key 'epoch' .*Valid keys: epochs, train_limit, "):
        _config.apply(Config(), ["epoch=3"])


@pytest.mark.parametrize("item,match", [
    ("epochs=x", "Expected epochs to be int"), ("epochs=none", "Expected a value for 'epochs'"),
    ("flag=maybe", "Expected flag to be bool"), ("grid=[1]", "Expected grid to be dict"),
    ("epochs", "Expected --set KEY=VALUE"), ("train_limit=2.5", "Expected train_limit to be int or none")])
def test_bad_values(item, match):
    with pytest.raises(UsageError, match=match):
        _config.apply(Config(), [item])


def test_config_file_then_set(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"epochs": 7, "datasets": ["fashion_mnist"], "train_limit": None}))
    config, overrides = _config.apply(Config(), ["epochs=9"], str(path))
    assert (config.epochs, config.datasets, config.train_limit) == (9, ("fashion_mnist",), None)
    assert overrides == {"epochs": 9, "datasets": ("fashion_mnist",), "train_limit": None}
    path.write_text("[1, 2]")
    with pytest.raises(UsageError, match="JSON object"):
        _config.apply(Config(), [], str(path))
    with pytest.raises(UsageError, match="Cannot read --config"):
        _config.apply(Config(), [], str(tmp_path / "missing.json"))
    path.write_text(json.dumps({"epochs": "many"}))
    with pytest.raises(UsageError, match="Expected epochs to be int"):
        _config.apply(Config(), [], str(path))


def test_plan_resolves_scale_overrides_and_seeds():
    module, config, overrides, seeds = _runner.plan("depth", "full", seeds=3, sets=["depths=1,3"])
    assert config.train_limit is None and config.test_limit is None  # full scale: 54k / 10k
    assert config.depths == (1, 3) and seeds == [0, 1, 2] and overrides == {"depths": (1, 3), "seeds": 3}
    assert _runner.plan("depth", "smoke")[1] == module.SMOKE
    with pytest.raises(UsageError, match="Unknown scale"):
        _runner.plan("depth", "huge")
    with pytest.raises(UsageError, match="seeds=0"):
        _runner.plan("depth", "smoke", sets=["seeds=0"])


def test_runs_resume_only_for_the_same_fingerprint(tmp_path):
    path = str(tmp_path / "x.partial.json")
    runs = _runner.Runs(path, {"config": 1})
    runs.add({"depth": 1, "eps": (0.1,)}, 0, accuracy=0.5)
    again = _runner.Runs(path, {"config": 1})
    assert again.get({"depth": 1, "eps": (0.1,)}, 0)["accuracy"] == 0.5
    assert again.get({"depth": 1, "eps": (0.1,)}, 1) is None
    assert _runner.Runs(path, {"config": 2}).records == []


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    from keras_seminar import _io
    from keras_seminar.errors import LockedError

    with _io.FileLock(tmp_path / "depth"):
        with pytest.raises(LockedError, match="in use by process"):
            _runner.run_experiment("depth", smoke=True, out=tmp_path)
    assert not (tmp_path / "depth.json").exists()
