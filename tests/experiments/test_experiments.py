"""Every experiment's SMOKE variant runs end to end and writes its report and PNGs."""

import os

import pytest

from experiments import _runner, cli


@pytest.mark.parametrize("name", _runner.EXPERIMENTS)
def test_smoke_variant_writes_report_and_plots(name, tmp_path):
    path = _runner.run_experiment(name, smoke=True, out=tmp_path)
    text = open(path).read()
    assert path == os.path.join(str(tmp_path), f"{name}.md")
    assert "## Evidence" in text and "seeds: [0]" in text and "| " in text
    pngs = [f for f in os.listdir(tmp_path) if f.endswith(".png")]
    assert pngs and all(f"]({png})" in text for png in pngs)


def test_unknown_experiment_and_bad_seeds(tmp_path):
    with pytest.raises(ValueError, match="Unknown experiment 'nope'"):
        _runner.run_experiment("nope", out=tmp_path)
    with pytest.raises(ValueError, match="seeds=0"):
        _runner.run_experiment("depth", smoke=True, seeds=0, out=tmp_path)


def test_cli_subcommand(tmp_path, capsys):
    from keras_seminar.cli import main

    assert main(["experiment", "game-of-life", "--smoke", "--out", str(tmp_path)]) == 0
    assert "game_of_life.md" in capsys.readouterr().out
    assert main(["experiment", "nope", "--smoke", "--out", str(tmp_path)]) == 2
    assert main(["experiment", "depth", "--seeds", "x", "--out", str(tmp_path)]) == 2
    assert hasattr(cli, "add_command")
