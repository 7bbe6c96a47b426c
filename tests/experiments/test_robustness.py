"""The attacks robustness and positivity share (`_attacks`): transfer examples crafted once on the
substitute, reused; and robustness's PGD training."""

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


def test_pgd_training_ramps_eps_and_keeps_only_full_eps_epochs(monkeypatch):
    import dataclasses

    import pytest

    config = dataclasses.replace(SMOKE, max_epochs=4, patience=4, train_pgd_ramp=2)
    data = _runner.load("mnist", 0, 256, test_limit=64)
    real, sizes = robustness.adversarial.pgd, []

    def pgd(model, x, y, eps, **kwargs):
        sizes.append((len(x), eps))
        return real(model, x, y, eps, **kwargs)

    monkeypatch.setattr(robustness.adversarial, "pgd", pgd)
    model = robustness.build("adv_pgd", config, 0)
    history = robustness.adversarial_fit(model, data, 0, config, "pgd", 0.3, batch_size=64)
    train_eps = [eps for n, eps in sizes if n <= 64]
    assert train_eps[0] == 0.0 and max(train_eps) == pytest.approx(0.3)
    assert train_eps == sorted(train_eps)  # grows, then stays at the full eps
    # Epochs that ended below the full eps are neither scored nor kept.
    assert history["adv_val_loss"][0] is None and None not in history["adv_val_loss"][1:]
    assert history["best_epoch"] >= 2 and len(history["val_loss"]) == 4
    assert [eps for n, eps in sizes if n == len(data.y_val)] == [0.3] * 3
