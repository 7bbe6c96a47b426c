"""The toolbox-measured experiments (dropconnect, schedules): every arm and seed is recorded, and
the report is drawn from the JSON alone."""

import json
import os

import numpy as np
from keras_seminar.experiments import _run


def _rerenders(name, tmp_path, path):
    text = open(path).read()
    os.remove(path)
    assert open(_run.render(name, tmp_path)).read() == text  # the report is the JSON's
    return text


def test_dropconnect_smoke_records_every_arm_and_seed(smoke_run):
    path, tmp_path = smoke_run("dropconnect")  # made with --set rate=0.25 --set arms=none,dropconnect
    results = json.load(open(tmp_path / "dropconnect.json"))
    arms = sorted((r["arm"]["arm"], r["seed"]) for r in results["runs"])
    assert arms == [(a, s) for a in ("dropconnect", "none") for s in (0, 1)]
    assert results["overrides"] == {"rate": 0.25, "arms": ["none", "dropconnect"]}
    for r in results["runs"]:
        assert 0 <= r["test_error"] <= 1 and len(r["history"]["val_loss"]) == r["epochs_run"]
        assert 1 <= r["best_epoch"] <= r["epochs_run"] <= 2
    text = _rerenders("dropconnect", tmp_path, path)
    assert "DropConnect - no regularization" in text and "DropConnect - Dropout" not in text
    assert "Wan et al." in text
    assert "dropconnect_curves.png" in text and "± 0.0000" not in text


def test_schedules_smoke_records_arms_sweep_and_range_test(smoke_run):
    path, tmp_path = smoke_run("schedules")  # SMOKE: 2 seeds
    results = json.load(open(tmp_path / "schedules.json"))
    keys = sorted((json.dumps(r["arm"], sort_keys=True), r["seed"]) for r in results["runs"])
    assert keys == sorted((json.dumps(a, sort_keys=True), s) for s in (0, 1) for a in (
        {"arm": "constant", "lr": 8e-3}, {"arm": "cyclical"}, {"phase": "range_test"}))
    assert results["best_constant_lr"] == 8e-3
    by_arm = {(r["arm"].get("arm"), r["seed"]): r for r in results["runs"]}
    # The cyclical rate really moved: from the low bound up towards the peak and back.
    lrs = np.array([lr for _, lr in by_arm[("cyclical", 0)]["lr_trace"]])
    assert lrs[0] == np.float32(8e-4) and lrs.max() > 4e-3 and lrs[-1] < lrs.max()
    for r in results["runs"]:
        if "history" in r:
            assert len(r["epoch_seconds"]) == 2 and r["epoch_seconds"][0] < r["epoch_seconds"][1]
            reached = r["epochs_to_target"]
            assert reached is None or r["history"]["val_accuracy"][reached - 1] >= 0.3
        else:
            assert 1e-5 <= r["suggested_lr"] <= 1.0 and len(r["lrs"]) == len(r["smoothed"]) <= 8
    text = _rerenders("schedules", tmp_path, path)
    assert "cyclical - constant" in text and "LR range test" in text and "schedules_lr_range.png" in text
