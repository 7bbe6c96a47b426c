"""The reverse-Game-of-Life experiment's own logic: the soft life rule, the forward check, and
the stochastic-rounding experiment's arm list."""

import keras
import numpy as np
import pytest
from keras_seminar.experiments import _game_of_life_model as net
from keras_seminar.experiments import _protocol, _run
from keras_seminar.experiments import game_of_life as experiment

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
        _run.plan("game_of_life", sets=["train=0"])
    with pytest.raises(ValueError, match=r"thresholds=\(0.5, 1.2\)"):
        _run.plan("game_of_life", sets=["thresholds=0.5,1.2"])
    with pytest.raises(ValueError, match="fractional_bits=\\(8, 16\\)"):
        _run.plan("stochastic_rounding", sets=["fractional_bits=8,16"])
    with pytest.raises(ValueError, match="'up'"):
        _run.plan("stochastic_rounding", sets=["roundings=up"])
    rounding = _protocol.get("stochastic_rounding")
    assert len(rounding.arms(rounding.config)) == 7


def _record(seed, **overall):
    """A fake per-seed record: every delta gets the overall value of each predictor and score."""
    scores = {k: {s: dict.fromkeys(experiment.DELTAS, v[i]) for i, s in enumerate(experiment.SCORES)}
              for k, v in overall.items()}
    return {"seed": seed, "scores": scores}


def test_target_and_best_per_score_follow_the_numbers():
    recs = [_record(s, cnn=(0.14, 0.13), cnn_checked=(0.145, 0.125), cnn_search=(0.17, 0.07 + s / 1000),
                    all_dead=(0.16, 0.15)) for s in range(3)]
    text = experiment._target(recs, "cnn_search")
    assert "NOT reached" in text and "2013 score 6.2% above all dead" in text
    assert "2020 score 52.7% below all dead overall, significantly lower at delta 1, 2, 3, 4, 5" in text
    best = experiment._best_per_score(recs)
    assert "2013 score: CNN (p > 1/2), 12.5% below all dead (NOT reached)" in best
    assert "2020 score: CNN + search, 52.7% below all dead (reached)" in best
