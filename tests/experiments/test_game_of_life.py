"""The reverse-Game-of-Life experiment's own logic: the soft life rule, the forward check, and
the stochastic-rounding experiment's arm list."""

import keras
import numpy as np
import pytest

from experiments import _game_of_life_model as net
from experiments import game_of_life as experiment
from experiments import stochastic_rounding
from keras_seminar.datasets import game_of_life


def test_soft_life_step_is_the_life_rule_on_0_1_boards():
    _, stop, _ = game_of_life.generate(20, size=9, seed=3)
    soft = keras.ops.convert_to_numpy(net.soft_life_step(keras.ops.convert_to_tensor(stop.astype("float32"))))
    np.testing.assert_array_equal(soft, game_of_life.step(stop))
    # In between it is smooth: p = 0.3 everywhere, n = 2.4: tri(-0.6) + 0.3 tri(0.4) = 0.58.
    soft = keras.ops.convert_to_numpy(net.soft_life_step(keras.ops.full((1, 5, 5), 0.3)))
    np.testing.assert_allclose(soft, 0.58, atol=1e-6)


def test_soft_forward_layer_follows_each_boards_delta():
    start, stop, delta = game_of_life.generate(12, seed=1)
    onehot = np.eye(5, dtype="float32")[delta - 1]
    out = net.SoftForward()(start[..., None].astype("float32"), onehot)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out)[..., 0], stop)


def test_forward_check_picks_the_candidate_that_evolves_closest_to_stop():
    start, stop, delta = game_of_life.generate(30, seed=2)
    dead = np.zeros_like(stop)
    boards, pick = experiment.forward_check([dead, start, stop], stop, delta)
    assert np.all(pick == 1)  # the recorded start evolves exactly to stop
    np.testing.assert_array_equal(boards, start)
    boards, pick = experiment.forward_check([dead, stop], stop, delta)
    best = np.minimum(game_of_life.score_2020(dead, stop, delta), game_of_life.score_2020(stop, stop, delta))
    np.testing.assert_allclose(game_of_life.score_2020(boards, stop, delta), best)


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="train=0"):
        experiment._check(experiment.Config(train=0))
    with pytest.raises(ValueError, match=r"thresholds=\(0.5, 1.2\)"):
        experiment._check(experiment.Config(thresholds=(0.5, 1.2)))
    with pytest.raises(ValueError, match="fractional_bits=16"):
        stochastic_rounding.arms(stochastic_rounding.Config(fractional_bits=(8, 16)))
    with pytest.raises(ValueError, match="'up'"):
        stochastic_rounding.arms(stochastic_rounding.Config(roundings=("up",)))
    assert len(stochastic_rounding.arms(stochastic_rounding.CONFIG)) == 7
