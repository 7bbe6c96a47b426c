"""Each experiment's SMOKE run, made once per test session and shared by the tests that read it;
and `tiny`, a registered experiment that trains nothing, for the protocol's own tests.

A smoke run is mostly tracing and compiling (seconds per model on 2 cores), so the generic test
(`test_experiments.py`) and an experiment's own checks (`test_toolbox.py`, ...) read one run
instead of training it twice. It runs through the command line (`keras-seminar experiment NAME
--smoke`), whose printed lines are kept (`smoke_output`). Every caller gets its own copy of the
output folder (its reports naming the copy), so a test may delete or rewrite files (re-render,
fake a partial run) without touching another's.
"""

import contextlib
import dataclasses
import io
import os
import shutil

import pytest
from keras_seminar.experiments import _protocol
from keras_seminar.experiments._config import Count
from keras_seminar.experiments._protocol import Experiment

# Overrides a shared smoke run is made with: the dedicated tests need these arms.
SMOKE_SETS = {"depth": ["depths=1,3"], "dropconnect": ["rate=0.25", "arms=none,dropconnect"]}


@pytest.fixture(scope="session")
def _smoke_runs(tmp_path_factory):
    return {}


def _made(name, runs, tmp_path_factory):
    if name not in runs:
        from keras_seminar.cli import main

        out = tmp_path_factory.mktemp(f"smoke_{name}")
        sets = [arg for item in SMOKE_SETS.get(name, []) for arg in ("--set", item)]
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert main(["experiment", name, "--smoke", "--out", str(out), *sets]) == 0
        runs[name] = (out / f"{name}.md", out, printed.getvalue())
    return runs[name]


@pytest.fixture
def smoke_run(_smoke_runs, tmp_path_factory, tmp_path):
    """`smoke_run(name)` -> `(report path, folder)`: a private copy of `name`'s session smoke run."""

    def run(name):
        path, out, _ = _made(name, _smoke_runs, tmp_path_factory)
        copy = tmp_path / f"smoke_{name}"
        shutil.copytree(out, copy)
        for report in copy.glob("*.md"):  # as if written there: the Evidence names its folder
            report.write_text(report.read_text().replace(str(out), str(copy)))
        return copy / os.path.basename(path), copy

    return run


@pytest.fixture
def smoke_output(_smoke_runs, tmp_path_factory):
    """`smoke_output(name)` -> what `keras-seminar experiment NAME --smoke` printed."""
    return lambda name: _made(name, _smoke_runs, tmp_path_factory)[2]


@dataclasses.dataclass
class TinyConfig:
    xs: tuple[Count, ...] = (1, 2)  # one arm per x
    seeds: Count = 2


class Tiny(Experiment):
    """An experiment that trains nothing: each run's value is 10 x + seed."""

    name = "tiny"
    title = "Tiny"
    question = "Does the protocol keep its promises?"
    config = TinyConfig()
    smoke = {"xs": (1,)}
    headline = ("value",)

    def arms(self, config):
        return [{"x": x} for x in config.xs]

    def data(self, config, arm, seed):
        return None

    def run_arm(self, config, arm, seed, data):
        self.trained.append((arm["x"], seed))
        return {"value": 10.0 * arm["x"] + seed}

    def render(self, config, results, report):
        report.table(["x", "seed", "value"], [(r["arm"]["x"], r["seed"], r["value"]) for r in results["runs"]])


@pytest.fixture
def tiny(monkeypatch):
    """The registered `tiny` experiment (removed again after the test); `.trained` lists its runs."""
    experiment = Tiny()
    experiment.trained = []
    monkeypatch.setitem(_protocol._REGISTRY, "tiny", experiment)
    return experiment
