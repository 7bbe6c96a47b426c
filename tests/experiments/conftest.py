"""Each experiment's SMOKE run, made once per test session and shared by the tests that read it.

A smoke run is mostly tracing and compiling (seconds per model on 2 cores), so the generic test
(`test_experiments.py`) and an experiment's own checks (`test_toolbox.py`, ...) read one run
instead of training it twice. Every caller gets its own copy of the output folder (its
reports naming the copy), so a test may delete or rewrite files (re-render, fake a partial
run) without touching another's.
"""

import os
import shutil

import pytest
from keras_seminar.experiments import _runner

# Overrides a shared smoke run is made with: the dedicated tests need these arms.
SMOKE_SETS = {"depth": ["depths=1,3"], "dropconnect": ["rate=0.25", "arms=none,dropconnect"]}


@pytest.fixture(scope="session")
def _smoke_runs(tmp_path_factory):
    return {}


@pytest.fixture
def smoke_run(_smoke_runs, tmp_path_factory, tmp_path):
    """`smoke_run(name)` -> `(report path, folder)`: a private copy of `name`'s session smoke run."""

    def run(name):
        if name not in _smoke_runs:
            out = tmp_path_factory.mktemp(f"smoke_{name}")
            path = _runner.run_experiment(name, smoke=True, out=out, sets=SMOKE_SETS.get(name, []))
            _smoke_runs[name] = (path, out)
        path, out = _smoke_runs[name]
        copy = tmp_path / f"smoke_{name}"
        shutil.copytree(out, copy)
        for report in copy.glob("*.md"):  # as if written there: the Evidence names its folder
            report.write_text(report.read_text().replace(str(out), str(copy)))
        return copy / os.path.basename(path), copy

    return run
