"""The benchmark scripts run end to end at smoke size and print well-formed JSON.

Ratios and speeds are never asserted here (CI machines are shared and noisy); the figures come
from full runs recorded in benchmarks/results/.
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script, *args, timeout=300):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", script), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _last_json(stdout):
    """The last complete JSON object printed (scripts may print one line per run first)."""
    start = stdout.rindex("\n{") + 1 if "\n{" in stdout else stdout.index("{")
    return json.loads(stdout[start:])


@pytest.mark.subprocess
def test_speed_smoke():
    summary = _last_json(_run("speed.py", "--smoke", "--model", "softmax", "--dataset", "mnist"))
    assert summary["backend"] and summary["device"].startswith(("cpu", "gpu"))
    run = summary["runs"][0]
    assert run["img_per_s"] > 0 and 0.0 <= run["accuracy"] <= 1.0
    assert run["cold_wall_seconds"] >= run["train_seconds"] > 0


@pytest.mark.subprocess
def test_speed_fused_ratio_smoke():
    summary = _last_json(_run("speed.py", "--smoke", "--model", "softmax", "--fused",
                              "--compare-unfused"))
    run = summary["runs"][0]
    assert summary["fused"] and run["unfused"]["img_per_s"] > 0
    assert summary["mean_speedup_vs_unfused"] == pytest.approx(run["img_per_s"] / run["unfused"]["img_per_s"])


@pytest.mark.subprocess
def test_layers_bench_smoke():
    out = _run("layers_bench.py", "--smoke")
    assert "Maxout" in out or "maxout" in out
