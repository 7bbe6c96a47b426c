"""The positivity experiment: the robustness experiment's attacks, and the control it needs."""

import dataclasses

import pytest
from keras_seminar.experiments import _protocol, _run

from keras_seminar.errors import UsageError

ATTACK_FIELDS = ("eps", "pgd_steps", "pgd_restarts", "attack_limit", "substitute_seed_offset")


def test_positivity_and_robustness_attack_alike_at_full_scale():
    configs = [dataclasses.asdict(_protocol.get(name).config) for name in ("positivity", "robustness")]
    assert [{k: c[k] for k in ATTACK_FIELDS} for c in configs] == [
        {"eps": (0.05, 0.1, 0.2, 0.3), "pgd_steps": 40, "pgd_restarts": 5, "attack_limit": 5000,
         "substitute_seed_offset": 100}] * 2


def test_positivity_needs_the_free_arm():
    with pytest.raises(UsageError, match=r"Expected 'free' among arms .* Received: arms=\['nonneg_all'\]"):
        _run.plan("positivity", "smoke", sets=["arms=nonneg_all"])
