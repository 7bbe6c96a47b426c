"""The gradient-norm report's trend measures on hand-made runs (Fig. 8.1: does the norm rise?)."""

import numpy as np
import pytest
from keras_seminar.experiments.gradient_norms import trend


def _record(norm_of_epoch, epochs=6, per_epoch=100, every=10):
    steps = np.arange(every, epochs * per_epoch + 1, every)
    return {"steps": steps.tolist(), "global_norm": [norm_of_epoch((s - 1) // per_epoch) for s in steps],
            "steps_per_epoch": per_epoch}


def test_rising_falling_and_transient_norms():
    first, settled, rho = trend(_record(lambda e: 2.0 ** e))             # doubles every epoch
    assert first == pytest.approx(5.0) and settled == pytest.approx(3.0) and rho == pytest.approx(1.0)
    first, settled, rho = trend(_record(lambda e: 4.0 if e == 0 else 1.0))  # an early fall, then flat
    assert first == pytest.approx(-2.0) and settled == pytest.approx(0.0)
    first, settled, rho = trend(_record(lambda e: 1.0 / (e + 1)))          # keeps falling
    assert first < 0 and settled < 0 and rho < -0.9


def test_short_and_constant_runs_give_finite_trends():
    """A smoke-sized run (one measurement in its last epochs) and a constant norm stay finite."""
    short = {"steps": [1, 2, 4], "global_norm": [3.0, 2.0, 1.0], "steps_per_epoch": 2}
    assert all(np.isfinite(trend(short))) and trend(short)[2] == pytest.approx(-1.0)
    assert trend(_record(lambda e: 1.0)) == (0.0, 0.0, 0.0)
