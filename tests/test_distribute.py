"""`--distribute` on 2 virtual CPU devices matches single-device training on the same data."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = """
import json, os, sys
from keras_seminar import backend
if os.environ["KERAS_BACKEND"] == "tensorflow" and sys.argv[1] == "1":
    backend.use_virtual_cpu_devices(2)
from keras_seminar.training import TrainConfig, train
r = train(TrainConfig(model="softmax", dataset="mnist", epochs=2, train_limit=2048, test_limit=500,
          batch_size=128, validation_split=0.01, run_name="d" + sys.argv[1],
          runs_dir=sys.argv[2] + "/runs", models_dir=sys.argv[2] + "/models",
          distribute=sys.argv[1] == "1", verbose=0))
print("RESULT " + json.dumps({"replicas": r["replicas"], "loss": r["history"]["loss"], "test": r["test"]}))
"""


def _run(distribute, tmp_path):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(int(distribute)), str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


@pytest.mark.subprocess
def test_data_parallel_matches_single_device(tmp_path):
    single = _run(False, tmp_path)
    parallel = _run(True, tmp_path)
    assert single["replicas"] == 1 and parallel["replicas"] == 2
    np.testing.assert_allclose(parallel["loss"], single["loss"], rtol=1e-4)
    assert parallel["test"]["accuracy"] == pytest.approx(single["test"]["accuracy"], abs=2e-3)
    assert parallel["test"]["loss"] == pytest.approx(single["test"]["loss"], rel=1e-3)


def test_bad_device_counts():
    from keras_seminar import backend

    with pytest.raises(ValueError, match="num_devices=0"):
        backend.data_parallel_scope(0)
    with pytest.raises(ValueError, match="count=-1"):
        backend.use_virtual_cpu_devices(-1)
