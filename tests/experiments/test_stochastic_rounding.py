"""The stochastic-rounding experiment: its plateau stop, its arms, and a report whose words follow TOST.

The report is drawn from hand-made records (no training), so each claim can be checked against
numbers chosen to land on one side of the ±0.3-point margin; the smoke run checks the rest end to end.
"""

import dataclasses
import json
import os

import keras
import numpy as np
import pytest
from keras_seminar.experiments import _protocol, _report, _run, _runner

from keras_seminar.errors import UsageError
from keras_seminar.training import fit_model

EXPERIMENT = _protocol.get("stochastic_rounding")


def _stops_after(losses):
    """The epoch (1-based) after which `_runner.Plateau` stops a fit with these validation losses."""
    callback = _runner.Plateau()
    callback.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    callback.model.stop_training = False  # as `fit` sets it
    callback.on_train_begin()
    for epoch, loss in enumerate(losses):
        callback.on_epoch_end(epoch, {"val_loss": loss})
        if callback.model.stop_training:
            return epoch + 1
    return None


def test_plateau_stops_once_the_loss_fell_less_than_3_percent_over_5_epochs():
    # Falls over the last 5 epochs (1 - min(last 5) / the loss 6 epochs back), from epoch 6 on:
    # 40%, 26%, 16.4%, 10.8%, 6.5%, 3.3% (epoch 11: still >= 3%), then 1 - 0.58 / 0.59 = 1.7% at epoch 12.
    losses = [1.0, 0.8, 0.7, 0.65, 0.62, 0.60, 0.59, 0.585, 0.58, 0.58, 0.58, 0.58, 0.58]
    assert _stops_after(losses) == 12
    assert _stops_after([1.0] * 5) is None  # fewer than 6 epochs: too short to tell
    assert _stops_after([1.0] * 6) == 6  # a flat loss stops as early as the rule allows
    assert _stops_after([2.0] + [0.3] * 6) == 7  # a spike 6 epochs back delays the stop by one epoch
    assert _stops_after([1.0, 0.5, 0.45, 0.41, 0.37, 0.34, 0.31, 0.29, 0.27]) is None  # still falling


def test_a_fit_that_cannot_learn_stops_on_its_plateau():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    x, y = np.random.default_rng(0).normal(size=(40, 3)).astype("float32"), np.arange(40) % 2
    history = fit_model(model, x, y, batch_size=20, epochs=30, seed=0, validation_data=(x, y),
                        callbacks=[_runner.Plateau()])
    assert len(history.history["val_loss"]) == 6


def test_default_arms_are_issue_34s_first_stage():
    config = EXPERIMENT.config
    assert (config.fractional_bits, config.learning_rate, config.seeds) == ((10, 14), 0.01, 5)
    assert [(a["arm"], a.get("fractional_bits"), a.get("rounding")) for a in EXPERIMENT.arms(config)] == [
        ("float32", None, None), ("fixed", 10, "nearest"), ("fixed", 10, "stochastic"),
        ("fixed", 14, "nearest"), ("fixed", 14, "stochastic")]


def _run_record(arm, seed, test_error, val_loss):
    return {"arm": arm, "seed": seed, "test_error": test_error, "train_error": test_error / 2, "seconds": 1.0,
            "history": {"val_loss": list(val_loss), "val_accuracy": [1 - test_error] * len(val_loss)}}


def _draw(tmp_path, runs, note=None, **overrides):
    config = dataclasses.replace(EXPERIMENT.config, **{"fractional_bits": (14,), **overrides})
    report = _report.Report(EXPERIMENT.name, tmp_path)
    results = {"runs": runs, "config": {"max_epochs": config.max_epochs}, **({"note": note} if note else {})}
    EXPERIMENT.render(config, results, report)
    return report


def test_report_says_matches_only_where_tost_does(tmp_path):
    flat = [0.4] + [0.3] * 6  # on its plateau: fell 0% over the last 5 epochs
    base = [0.020, 0.022, 0.019, 0.021, 0.020]
    noise = [0.0004, -0.0003, 0.0002, -0.0001, 0.0000]  # mean +0.004 points, tight: inside ±0.3
    wide = [0.008, -0.007, 0.006, -0.009, 0.003]  # mean +0.02 points, 95% CI about ±0.9: contains 0, not inside
    runs = []
    for seed in range(5):
        runs += [_run_record({"arm": "float32"}, seed, base[seed], flat),
                 _run_record({"arm": "fixed", "fractional_bits": 14, "rounding": "stochastic"}, seed,
                             base[seed] + noise[seed], flat),
                 _run_record({"arm": "fixed", "fractional_bits": 14, "rounding": "nearest"}, seed,
                             base[seed] + wide[seed], flat)]
    findings = _draw(tmp_path, runs).findings
    # wide: 0.8, -0.7, 0.6, -0.9, 0.3 points, s = 0.7727, se = 0.3456: 95% CI 0.02 ± 2.7764 se, 90% CI ± 2.1318 se
    assert findings[0] == ("Test error: <2,14> nearest vs float32: no difference detected (paired difference +0.02, "
                           "95% CI [-0.94, +0.98] points, n=5 contains 0); not shown equivalent within ±0.30 points "
                           "(TOST: 90% CI [-0.72, +0.76] points is not inside the margin).")
    assert findings[1].startswith("Test error: <2,14> stochastic matches float32: equivalent within ±0.30 points "
                                  "(TOST at the 5% level: paired difference +0.00, 90% CI [-0.02, +0.03] points inside")
    assert findings[2].startswith("FL=14: round-to-nearest vs stochastic rounding: no difference detected")
    # A run whose loss still fell at the cap is named; the margin is a config field.
    runs[1] = _run_record(runs[1]["arm"], 0, 0.0204, [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])  # 1 - 0.4 / 0.9
    report = _draw(tmp_path, runs, margin=0.0001)
    assert "not shown equivalent within ±0.01 points" in report.findings[1]
    text = "\n".join(report.sections)
    assert ("runs off their plateau at the 100-epoch cap (how much their validation loss still fell over the "
            "last 5 epochs): <2,14> stochastic seed 0 (55.6%);") in text
    assert "| <2,14> stochastic | 2.04 ± " in text and "| no | 7-7 | 1 |" in text


def test_report_names_whats_left_of_the_grid_and_draws_a_note_only_from_the_json(tmp_path):
    runs = [_run_record({"arm": "float32"}, s, 0.02, [0.3] * 7) for s in range(2)]
    text = "\n".join(_draw(tmp_path, runs).sections)
    assert "all 2 runs stopped on their plateau, before the 100-epoch cap." in text
    assert ("Not run here (issue 34's grid: FL 8, 10, 14 at rates 0.01 and 0.1): FL 8,10 at rate 0.01: "
            "`KERAS_BACKEND=tensorflow keras-seminar experiment stochastic_rounding --set fractional_bits=8,10 "
            "--set learning_rate=0.01 --out reports/stochastic_rounding_lr0.01`; FL 8,10,14 at rate 0.1: ") in text
    assert "Note (added" not in text
    assert "**Note (added to the results JSON by hand).** old" in "\n".join(_draw(tmp_path, runs, note="old").sections)
    done = _draw(tmp_path, runs, fractional_bits=(8, 10, 14), learning_rate=0.1)
    assert "FL 8,10,14 at rate 0.01: " in "\n".join(done.sections) and "at rate 0.1:" not in "\n".join(done.sections)


def test_the_fixed_budget_runs_json_is_refused_not_drawn_wrong(tmp_path):
    old = {"config": {"epochs": 3, "fractional_bits": [8, 10, 14]}, "runs": [], "note": "hand-written"}
    with pytest.raises(UsageError, match=r"a fixed budget of 3 epochs \(before issue 34\); rerun with --restart"):
        EXPERIMENT.render(EXPERIMENT.config, old, _report.Report(EXPERIMENT.name, tmp_path))


def test_smoke_run_records_the_plateau_rule_and_re_renders(smoke_run):
    path, out = smoke_run("stochastic_rounding")
    results = json.load(open(out / "stochastic_rounding.json"))
    assert "note" not in results and results["config"]["max_epochs"] == 2
    assert sorted((r["arm"].get("rounding", "float32"), r["seed"]) for r in results["runs"]) == [
        ("float32", 0), ("float32", 1), ("nearest", 0), ("nearest", 1), ("stochastic", 0), ("stochastic", 1)]
    for r in results["runs"]:
        assert len(r["history"]["val_loss"]) == 2 and 0 <= r["test_error"] <= 1
    text = open(path).read()
    assert "too few epochs" in text and "equivalent within ±0.3 (TOST)" in text and "Note (added" not in text
    os.remove(path)
    assert open(_run.render("stochastic_rounding", out)).read() == text


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match=r"fractional_bits=\(8, 16\)"):
        _run.plan("stochastic_rounding", sets=["fractional_bits=8,16"])
    with pytest.raises(ValueError, match="'up'"):
        _run.plan("stochastic_rounding", sets=["roundings=up"])
    with pytest.raises(ValueError, match="margin"):
        _run.plan("stochastic_rounding", sets=["margin=0"])
