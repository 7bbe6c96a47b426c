"""The attacks robustness and positivity share (`_attacks`): transfer examples crafted once on the
substitute, reused; and how robustness trains its adversarial arms."""

import dataclasses

import numpy as np
from keras_seminar.experiments import _attacks, _protocol, _runner, robustness

SMOKE = _protocol.get("robustness").config_for("smoke")


def test_transfer_examples_are_crafted_once_per_seed_and_reused(monkeypatch):
    config = SMOKE
    source, first, second = (_runner.build_mlp(s, hidden=(8,)) for s in (0, 1, 2))
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(16, 28, 28, 1)).astype("float32"), rng.integers(0, 10, 16)
    real, attacked = _attacks.adversarial.pgd, []

    def pgd(model, *args, **kwargs):
        attacked.append(model)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(_attacks.adversarial, "pgd", pgd)
    crafted = {}
    acc_first = _attacks.pgd_accuracy(config, first, x, y, 0.3, 0, source, crafted)
    assert attacked == [source] * config.pgd_restarts and set(crafted) == {(0.3, r) for r in range(config.pgd_restarts)}
    acc_second = _attacks.pgd_accuracy(config, second, x, y, 0.3, 0, source, crafted)
    assert len(attacked) == config.pgd_restarts  # nothing crafted again
    # The reused examples give the same accuracy as crafting them anew.
    assert acc_second == _attacks.pgd_accuracy(config, second, x, y, 0.3, 0, source)
    assert 0.0 <= acc_first <= 1.0
    # White-box (no source): crafted on the target itself, every call.
    _attacks.pgd_accuracy(config, first, x, y, 0.3, 0)
    assert attacked[-config.pgd_restarts:] == [first] * config.pgd_restarts


def test_adversarial_arms_train_through_the_library_with_the_configs_settings(monkeypatch):
    """The training loop itself is tested in tests/test_adversarial_fit.py."""
    config = dataclasses.replace(SMOKE, max_epochs=4, patience=3, train_pgd_ramp=2, train_pgd_steps=3)
    data = _runner.load("mnist", 0, 256, test_limit=64)
    calls = []

    def adversarial_fit(model, x, y, eps, attack, **kwargs):
        calls.append((model, len(y), eps, attack, kwargs))
        return {"val_loss": [1.0], "best_epoch": 1}

    monkeypatch.setattr(robustness.adversarial, "adversarial_fit", adversarial_fit)
    for arm in ("adv_fgsm", "adv_pgd"):
        model, history = robustness.train(arm, config, data, "mnist", 7)
        assert model.compiled and history == {"val_loss": [1.0], "best_epoch": 1}
    (_, n, eps, fgsm, options), (_, _, _, pgd, pgd_options) = calls
    assert (n, eps, fgsm, pgd) == (256, config.train_eps["mnist"], "fgsm", "pgd")
    assert options["ramp_epochs"] == 0 and pgd_options["ramp_epochs"] == 2  # the ramp is PGD's
    assert {k: pgd_options[k] for k in ("epochs", "patience", "pgd_steps", "seed")} == \
        {"epochs": 4, "patience": 3, "pgd_steps": 3, "seed": 7}
    assert len(pgd_options["validation_data"][1]) == len(data.y_val)
