"""The positivity experiment: the robustness experiment's attacks, and the control it needs."""

import dataclasses
import json

import pytest
from keras_seminar.experiments import _config, _protocol, _run

from keras_seminar.errors import UsageError

ATTACK_FIELDS = ("eps", "pgd_steps", "pgd_restarts", "attack_limit", "substitute_seed_offset")


def test_positivity_and_robustness_attack_alike_at_full_scale():
    configs = [dataclasses.asdict(_protocol.get(name).config) for name in ("positivity", "robustness")]
    assert [{k: c[k] for k in ATTACK_FIELDS} for c in configs] == [
        {"eps": (0.05, 0.1, 0.2, 0.3), "pgd_steps": 40, "pgd_restarts": 5, "attack_limit": 5000,
         "substitute_seed_offset": 100}] * 2


def test_positivity_needs_the_free_arm():
    with pytest.raises(UsageError, match=r"Expected arms to be .*\(it must include 'free': every arm's control\)\. "
                                         r"Received: arms=\('nonneg_all',\)"):
        _run.plan("positivity", "smoke", sets=["arms=nonneg_all"])


def _results(arch, setting):
    """Results of the smoke config for `arch`, each arm trained with `setting[arm]` = (lr, init)."""
    experiment = _protocol.get("positivity")
    config = dataclasses.replace(experiment.config_for("smoke"), archs=(arch,))
    runs = [{"arm": {"phase": "sweep", "dataset": "mnist", "arch": arch, "arm": arm, "lr": lr, "init": init},
             "seed": 0, "val_accuracy": 0.9, "best_epoch": 1, "epochs_run": 1} for arm, (lr, init) in setting.items()]
    runs += [{"arm": {"phase": "main", "dataset": "mnist", "arch": arch, "arm": arm}, "seed": seed, "lr": lr,
              "init": init, "best_epoch": 1, "epochs_run": 1, "test_accuracy": 0.9 + seed / 100,
              "history": {"val_loss": [0.3]}, "attacked_clean": 0.9, "attacked_images": 64, "fgsm": [0.5, 0.2],
              "pgd": [0.4, 0.1], "transfer": [0.6, 0.3]}
             for seed in (0, 1) for arm, (lr, init) in setting.items()]
    return {"experiment": "positivity", "title": "t", "question": "q", "scale": "smoke", "seeds": [0, 1],
            "config": _config.as_dict(config), "device": "cpu (2 cores)", "environment": {"backend": "tensorflow"},
            "epoch_order": "reshuffled each epoch", "runs": runs}


def test_positivity_report_says_how_its_arms_relate_to_robustness_and_where_the_cnn_is(tmp_path):
    setting = {"free": (1e-3, "glorot_uniform"), "nonneg_output": (3e-3, "positive_uniform")}
    (tmp_path / "positivity.json").write_text(json.dumps(_results("mlp", setting)))
    text = open(_run.render("positivity", tmp_path)).read()
    assert "Trained as there: mnist/free; trained otherwise: mnist/nonneg_output (0.003, positive_uniform)." in text
    assert "PGD-2, 1 restarts (white-box)" in text and "black-box transfer" in text
    # the smoke sweep's cap is 1 epoch, so every sweep run ended on it
    assert ("Sweep runs whose best epoch was the 1-epoch cap (still improving; a cap favours the faster rate): "
            "mnist/mlp/free (0.001, glorot_uniform), mnist/mlp/nonneg_output (0.003, positive_uniform).") in text
    assert "positivity_cnn/positivity.md, from `KERAS_BACKEND=tensorflow" in text and "GPU" not in text
    (tmp_path / "positivity.json").write_text(json.dumps(_results("cnn", setting)))
    text = open(_run.render("positivity", tmp_path)).read()
    assert "trained on cpu (2 cores) with tensorflow." in text and "Trained as there" not in text


def test_each_arm_is_swept_on_seed_0_first_and_then_uses_its_first_best_setting():
    from keras_seminar.experiments import positivity

    experiment = type(_protocol.get("positivity"))()
    config = dataclasses.replace(experiment.config_for("smoke"), learning_rates=(1e-3, 3e-3))
    plan = list(experiment.plan(config, [0, 1]))
    assert [(a["phase"], a["arm"], a.get("lr"), seed) for a, seed in plan] == [
        ("sweep", "free", 1e-3, 0), ("sweep", "free", 3e-3, 0), ("sweep", "nonneg_output", 1e-3, 0),
        ("sweep", "nonneg_output", 3e-3, 0), ("main", "free", None, 0), ("main", "nonneg_output", None, 0),
        ("main", "free", None, 1), ("main", "nonneg_output", None, 1)]
    scores = {("free", 1e-3): 0.5, ("free", 3e-3): 0.5, ("nonneg_output", 1e-3): 0.4, ("nonneg_output", 3e-3): 0.6}

    class Runs:
        def get(self, arm, seed):
            assert arm["phase"] == "sweep" and seed == 0
            return {"val_accuracy": scores[(arm["arm"], arm["lr"])]}

    experiment.runs = Runs()
    picks = [experiment.chosen(arm, positivity._candidates(config, arm), "val_accuracy")
             for arm, seed in plan if arm["phase"] == "main" and seed == 0]
    assert picks == [{"lr": 1e-3, "init": "glorot_uniform"}, {"lr": 3e-3, "init": "positive_uniform"}]


def test_a_net_that_stayed_at_chance_counts_as_clean_but_not_under_attack(tmp_path):
    results = _results("cnn", {"free": (1e-3, "glorot_uniform"), "nonneg_all": (3e-3, "positive_uniform")})
    for run in results["runs"]:  # seed 1's non-negative net predicts one class: every attack leaves it at 11.35 %
        if run["arm"]["phase"] == "main" and run["arm"]["arm"] == "nonneg_all" and run["seed"] == 1:
            run.update(test_accuracy=0.1135, attacked_clean=0.113, fgsm=[0.113] * 2, pgd=[0.113] * 2,
                       transfer=[0.113] * 2)
    (tmp_path / "positivity.json").write_text(json.dumps(results))
    text = open(_run.render("positivity", tmp_path)).read()
    assert "mnist/cnn/nonneg_all: 1 of 2 seeds stayed at chance (seed 1: 11.35% clean)" in text
    assert "| mnist | cnn | nonneg_all | 0.003, positive_uniform | 50.68 ± " in text and "| 1 of 2 |" in text
    # The clean comparison keeps both seeds; under attack only seed 0 is left, its pair with it.
    assert "clean accuracy: nonneg_all vs free: no difference detected (paired difference -39.83" in text
    assert "PGD eps=0.1 accuracy: nonneg_all - free = +0.00 points on one seed: no interval, no claim." in text
    assert "| mnist | cnn | nonneg_all | 90.0 (n=1, no CI) | 50.0 (n=1, no CI) | 20.0 (n=1, no CI) |" in text


def test_an_arm_with_one_setting_to_try_trains_without_a_sweep():
    # e.g. a rerun of one arm at a fixed rate and initializer: nothing to choose, so no sweep run
    experiment = type(_protocol.get("positivity"))()
    config = dataclasses.replace(experiment.config_for("smoke"), learning_rates=(1e-3,), inits=("glorot_uniform",))
    plan = list(experiment.plan(config, [0, 1]))
    assert [(a["phase"], a["arm"], seed) for a, seed in plan] == [
        ("main", "free", 0), ("main", "nonneg_output", 0), ("main", "free", 1), ("main", "nonneg_output", 1)]
    assert experiment.chosen(plan[1][0], [{"lr": 1e-3, "init": "glorot_uniform"}], "val_accuracy") == {
        "lr": 1e-3, "init": "glorot_uniform"}


def test_a_report_without_sweep_runs_has_no_sweep_table(tmp_path):
    results = _results("cnn", {"free": (1e-3, "glorot_uniform"), "nonneg_all": (1e-3, "glorot_uniform")})
    results["runs"] = [r for r in results["runs"] if r["arm"]["phase"] == "main"]
    results["config"].update(learning_rates=[1e-3], inits=["glorot_uniform"], arms=["free", "nonneg_all"])
    (tmp_path / "positivity.json").write_text(json.dumps(results))
    text = open(_run.render("positivity", tmp_path)).read()
    assert "sweep per arm" not in text and "Training: Adam at the one rate and initializer given" in text
    assert "Sweep runs" not in text and "No sweep run" not in text
