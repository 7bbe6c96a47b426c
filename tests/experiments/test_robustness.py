"""The robustness experiment's transfer attack: examples crafted once on the substitute, reused."""

import numpy as np

from experiments import _runner, robustness


def test_transfer_examples_are_crafted_once_per_seed_and_reused(monkeypatch):
    config = robustness.SMOKE
    source, first, second = (_runner.build_mlp(s, hidden=(8,)) for s in (0, 1, 2))
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(16, 28, 28)).astype("float32"), rng.integers(0, 10, 16)
    real, attacked = robustness.adversarial.pgd, []

    def pgd(model, *args, **kwargs):
        attacked.append(model)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(robustness.adversarial, "pgd", pgd)
    crafted = {}
    acc_first = robustness.pgd_accuracy(config, first, x, y, 0.3, 0, source, crafted)
    assert attacked == [source] * config.pgd_restarts and set(crafted) == {(0.3, r) for r in range(config.pgd_restarts)}
    acc_second = robustness.pgd_accuracy(config, second, x, y, 0.3, 0, source, crafted)
    assert len(attacked) == config.pgd_restarts  # nothing crafted again
    # The reused examples give the same accuracy as crafting them anew.
    assert acc_second == robustness.pgd_accuracy(config, second, x, y, 0.3, 0, source)
    assert 0.0 <= acc_first <= 1.0
    # White-box (no source): crafted on the target itself, every call.
    robustness.pgd_accuracy(config, first, x, y, 0.3, 0)
    assert attacked[-config.pgd_restarts:] == [first] * config.pgd_restarts
