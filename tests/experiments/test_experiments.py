"""Every experiment's SMOKE variant runs end to end and re-renders from its JSON; the command line."""

import json
import os

import pytest
from keras_seminar.experiments import _protocol, _run

from keras_seminar.errors import UsageError


@pytest.mark.parametrize("name", _protocol.names())
def test_smoke_variant_writes_report_and_plots(name, smoke_run):
    path, tmp_path = smoke_run(name)
    text = open(path).read()
    seeds = _protocol.get(name).config_for("smoke").seeds
    assert path == tmp_path / f"{name}.md"
    assert "## Evidence" in text and f"seeds: {list(range(seeds))}" in text and "scale: smoke" in text
    assert "| " in text and "± 0.0000" not in text
    pngs = [f for f in os.listdir(tmp_path) if f.endswith(".png")]
    assert pngs and all(f"]({png})" in text for png in pngs)
    results = json.load(open(tmp_path / f"{name}.json"))
    assert sorted({r["seed"] for r in results["runs"]}) == list(range(seeds))
    if name == "sparsity":  # seed s fine-tunes its own base s, named inside the output folder
        assert {r["pretrained"] for r in results["runs"] if r["arm"].get("model") == "lenet5"} == {
            f"sparsity_bases/lenet5_fashion_mnist_s{s}/lenet5_fashion_mnist_s{s}.keras" for s in range(seeds)}
    assert not os.path.exists(tmp_path / f"{name}.partial.json")
    os.remove(path)
    assert open(_run.render(name, tmp_path)).read() == text  # the report is the JSON's


def test_depth_smoke_records_every_arm_and_seed(smoke_run):
    _, tmp_path = smoke_run("depth")  # made with --set depths=1,3
    results = json.load(open(tmp_path / "depth.json"))
    arms = sorted((r["arm"]["depth"], r["seed"]) for r in results["runs"])
    assert arms == [(1, 0), (1, 1), (3, 0), (3, 1)]
    assert results["overrides"] == {"depths": [1, 3]} and results["config"]["depths"] == [1, 3]
    for r in results["runs"]:
        assert abs(r["parameters"] - 5000) < 300 and 0 <= r["test_accuracy"] <= 1
        assert len(r["history"]["val_loss"]) == r["epochs_run"] and 1 <= r["best_epoch"] <= r["epochs_run"]
    text = open(tmp_path / "depth.md").read()
    assert '- overrides: {"depths": [1, 3]}' in text and "3 - 1" in text and "Incomplete" not in text
    # A run still in progress renders from its partial file, marked incomplete, n per arm.
    meta = {k: v for k, v in results.items() if k not in ("runs", "wall_seconds")}
    partial = {"fingerprint": {}, "meta": meta, "records": [r for r in results["runs"] if r["seed"] == 0]}
    (tmp_path / "depth.partial.json").write_text(json.dumps(partial))
    os.remove(tmp_path / "depth.json")
    text = open(_run.render("depth", tmp_path)).read()
    assert "**Incomplete**: drawn from the 2 runs" in text and "(n=1, no CI)" in text and "unfinished" in text


def test_depth_smoke_prints_a_line_per_run(smoke_output):
    """`keras-seminar experiment depth --smoke`: arm, seed, headline, seconds, k/N and an ETA per run."""
    lines = [line for line in smoke_output("depth").splitlines() if line[:1].isdigit()]
    assert [line.split(" ", 1)[0] for line in lines] == ["1/4", "2/4", "3/4", "4/4"]
    assert lines[0].startswith("1/4 dataset=mnist, params=5000, depth=1, seed 0: test_accuracy 0.")
    assert all(" s, ETA " in line for line in lines) and lines[-1].endswith("ETA 0 s")
    assert "Report: " in smoke_output("depth")


def test_unknown_experiment_bad_seeds_and_render_without_results(tmp_path):
    with pytest.raises(UsageError, match="Unknown experiment 'nope'. Expected one of .*'depth'"):
        _run.run_experiment("nope", out=tmp_path)
    with pytest.raises(UsageError, match="seeds=0"):
        _run.run_experiment("depth", smoke=True, seeds=0, out=tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        _run.render("depth", tmp_path)
    assert os.listdir(tmp_path) == []


def test_cli_subcommand(tmp_path, capsys, monkeypatch):
    from keras_seminar.cli import main

    calls = []  # the run itself is test_smoke_variant_writes_report_and_plots's; here only what the CLI passes on
    with monkeypatch.context() as patch:
        patch.setattr(_run, "run_experiment", lambda name, **kw: calls.append((name, kw)) or f"{kw['out']}/x.md")
        assert main(["experiment", "game-of-life", "--smoke", "--set", "epochs=2", "--seeds", "3",
                     "--out", str(tmp_path), "--quiet", "--restart"]) == 0
    assert calls == [("game-of-life", {"scale": "smoke", "seeds": 3, "sets": ["epochs=2"], "config_file": None,
                                       "out": str(tmp_path), "restart": True, "verbose": False})]
    assert f"Report: {tmp_path}/x.md" in capsys.readouterr().out
    assert main(["experiment", "nope", "--smoke", "--out", str(tmp_path)]) == 2
    assert main(["experiment", "depth", "--seeds", "x", "--out", str(tmp_path)]) == 2
    assert "--seeds to be a positive integer" in capsys.readouterr().err
    assert main(["experiment", "depth", "--smoke", "--set", "epoch=3", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Unknown config key 'epoch'" in err and "max_epochs" in err and len(err.strip().splitlines()) == 1
    assert main(["experiment", "depth", "--render", "--out", str(tmp_path)]) == 2
    assert "Run the experiment first" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "depth.md")
