"""--set / --config overrides: parsed to each field's declared type, every field checked (type,
item type, range) before anything trains, unknown keys refused, the overrides recorded."""

import dataclasses
import json
import os
from typing import Annotated

import pytest
from keras_seminar.experiments import _config, _run
from keras_seminar.experiments._config import Count, Dataset, Fraction, Includes, Natural, Positive

from keras_seminar.errors import UsageError


@dataclasses.dataclass
class Config:
    epochs: Count = 3
    train_limit: Count | None = 5000
    learning_rate: Positive = 1e-3
    datasets: tuple[Dataset, ...] = ("mnist",)
    grid: dict[str, tuple[Natural, ...]] = dataclasses.field(default_factory=lambda: {"l1": (1,)})
    flag: bool = False
    name: str = "x"
    share: Fraction = 0.5
    items: tuple = ("a",)
    arms: Annotated[tuple[str, ...], Includes("a", "the control")] = ("a", "b")
    seeds: Count = 1


def test_set_values_take_the_fields_type():
    config, overrides = _config.apply(Config(), ["epochs=40", "train_limit=none", "learning_rate=3e-3",
                                                 "datasets=mnist,fashion_mnist", "flag=true", "name=a=b",
                                                 'grid={"l1": [0, 4]}', "share=1"])
    assert config == Config(epochs=40, train_limit=None, learning_rate=3e-3, datasets=("mnist", "fashion_mnist"),
                            grid={"l1": (0, 4)}, flag=True, name="a=b", share=1.0)
    assert overrides["train_limit"] is None and overrides["datasets"] == ("mnist", "fashion_mnist")
    assert isinstance(config.share, float)
    assert _config.apply(Config(), ["items=[1, 2.5]"])[0].items == (1, 2.5)  # a bare tuple: any JSON scalars
    assert _config.apply(Config(), ["learning_rate=1"])[0].learning_rate == 1.0


def test_unknown_key_is_refused_with_the_valid_ones():
    with pytest.raises(UsageError, match=r"Unknown config key 'epoch' .*Valid keys: epochs, train_limit, "):
        _config.apply(Config(), ["epoch=3"])


@pytest.mark.parametrize("item,match", [
    ("epochs=x", r"Expected epochs to be an integer >= 1. Received: epochs='x'"),
    ("epochs=0", r"Expected epochs to be an integer >= 1. Received: epochs=0"),
    ("epochs=none", r"Received: epochs='none'"),
    ("flag=maybe", "Expected flag to be true or false"),
    ("grid=[1]", "Expected grid to be a JSON object"),
    ("grid={\"l1\": [-1]}", r"each value a non-empty tuple, each an integer >= 0"),
    ("datasets=mnist,cifar", r"each one of 'mnist', 'fashion_mnist'. Received: datasets=\('mnist', 'cifar'\)"),
    ("datasets=", "Expected datasets to be a non-empty tuple"),
    ("learning_rate=0", r"a number > 0. Received: learning_rate=0.0"),
    ("learning_rate=NaN", "Received: learning_rate=nan"),
    ("share=1.5", r"a number in \[0, 1\]"),
    ("items=[[1]]", "Expected items to be a non-empty tuple"),
    ("epochs", "Expected --set KEY=VALUE"),
    ("train_limit=2.5", r"Expected train_limit to be an integer >= 1 or none"),
    ("arms=b,c", r"Expected arms to be a non-empty tuple, each a string \(it must include 'a': the control\)\. "
                 r"Received: arms=\('b', 'c'\)")])
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
    with pytest.raises(UsageError, match="Expected epochs to be an integer"):
        _config.apply(Config(), [], str(path))
    path.write_text('{"epochs": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(UsageError, match="nested too deeply"):
        _config.apply(Config(), [], str(path))


def test_plan_resolves_scale_overrides_and_seeds():
    experiment, config, overrides, seeds = _run.plan("depth", "full", seeds=3, sets=["depths=1,3"])
    assert config.train_limit is None and config.test_limit is None  # full scale: 54k / 10k
    assert config.depths == (1, 3) and seeds == [0, 1, 2] and overrides == {"depths": (1, 3), "seeds": 3}
    assert _run.plan("depth", "smoke")[1] == dataclasses.replace(experiment.config, **experiment.smoke)
    with pytest.raises(UsageError, match="Unknown scale"):
        _run.plan("depth", "huge")
    with pytest.raises(UsageError, match="seeds=0"):
        _run.plan("depth", "smoke", sets=["seeds=0"])


@pytest.mark.parametrize("args,match", [
    (["--set", "depths=a,b"], r"Expected depths to be a non-empty tuple, each an integer >= 1. "
                              r"Received: depths=('a', 'b')"),
    (["--config", '{"depths": [1, "x"]}'], "Received: depths=(1, 'x')"),
    (["--set", "max_epochs=0"], "Expected max_epochs to be an integer >= 1. Received: max_epochs=0"),
    (["--set", "depths=-1,1"], "Received: depths=(-1, 1)"),
    (["--set", "depths=" + "[" * 100_000], "Received: depths='[[[["),
    (["--config", '{"depths": ' + "[" * 100_000 + "]" * 100_000 + "}"], "nested too deeply"),
    (["--set", "datasets=svhn"], "one of 'mnist', 'fashion_mnist'"),
    (["--set", "patience=-1"], "Expected patience to be an integer >= 0")])
def test_bad_settings_are_one_line_before_anything_trains(args, match, tmp_path, capsys):
    from keras_seminar.cli import main

    if args[0] == "--config":
        (tmp_path / "c.json").write_text(args[1])
        args = ["--config", str(tmp_path / "c.json")]
    out = tmp_path / "out"
    assert main(["experiment", "depth", "--smoke", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and match in err and "Traceback" not in err
    assert not out.exists() or os.listdir(out) == []  # no report, no results


@pytest.mark.parametrize("name,item,match", [
    ("stochastic_rounding", "fractional_bits=8,16", "fractional_bits below word_bits=16"),
    ("stochastic_rounding", "roundings=up", "Received: roundings=('up',)"),
    ("robustness", "train_pgd_ramp=5", "Received: train_pgd_ramp=5"),  # smoke: max_epochs=1
    ("robustness", 'penalties={"l1": 1e-4}', "Expected penalties to hold a value for each of ['l12']"),
    ("information_plane", "train_fraction=1.5", "Received: train_fraction=1.5"),
    ("information_plane", "activations=tanh,sigmoid", r"Received: activations=('tanh', 'sigmoid')"),
    ("sparsity", "finetune_models=mlp,resnet999", "Unknown model 'resnet999'"),
    ("schedules", "clr_bounds=0.1,0.01", "rising ranges"),
    ("game_of_life", "thresholds=0.5,1", "Received: thresholds=(0.5, 1.0)")])
def test_each_experiments_own_checks(name, item, match):
    with pytest.raises(UsageError, match=match.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        _run.plan(name, "smoke", sets=[item])


def test_every_registered_config_is_valid_at_both_scales():
    from keras_seminar.experiments import _protocol

    for name in _protocol.names():
        experiment = _protocol.get(name)
        for scale in _run.SCALES:
            experiment.check(_config.validate(experiment.config_for(scale)))
