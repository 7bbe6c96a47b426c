"""The reverse-Game-of-Life experiment's own logic: the soft life rule, the forward check, the tile
look-up, the search-only controls, the report's verdicts; bad configs (with stochastic rounding's)."""

import keras
import numpy as np
import pytest
from keras_seminar.experiments import _game_of_life_model as net
from keras_seminar.experiments import _run
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


def test_lookup_trained_where_start_is_stop_predicts_the_stop_board():
    rng = np.random.default_rng(0)
    boards = (rng.random((300, 9, 9)) < 0.4).astype(np.uint8)
    delta = rng.integers(1, 3, size=300)
    test = (rng.random((40, 9, 9)) < 0.4).astype(np.uint8)  # most 5x5 tiles unseen: the 3x3 back-off decides
    p = net.lookup_posterior(boards, boards, delta, test, rng.integers(1, 3, size=40), radius=2)
    np.testing.assert_array_equal(p > 0.5, test == 1)


def test_lookup_counts_the_training_frequency_per_tile_and_delta():
    rng = np.random.default_rng(1)
    start = (rng.random((50, 6, 6)) < 0.5).astype(np.uint8)
    stop = (rng.random((50, 6, 6)) < 0.5).astype(np.uint8)
    delta = np.repeat([1, 2], 25)
    p = net.lookup_posterior(start, stop, delta, stop[:1], delta[:1], radius=0, prior=1e-9)
    live = start[:25][stop[:25] == 1].mean()  # delta 1, the cell alone: P(start alive | stop alive)
    np.testing.assert_allclose(p[0][stop[0] == 1], live, rtol=1e-6)
    # prior 1: one step of the back-off from the delta's live density to the cell's tile
    p = net.lookup_posterior(start, stop, delta, stop[:1], delta[:1], radius=0, prior=1.0)
    seen = (stop[:25] == 1).sum()
    np.testing.assert_allclose(p[0][stop[0] == 1], (live * seen + start[:25].mean()) / (seen + 1), rtol=1e-6)
    with pytest.raises(ValueError, match="radius=4"):
        net.lookup_posterior(start, stop, delta, stop, delta, radius=4)


def test_lookup_beats_all_dead_at_delta_1_on_generated_games():
    train, (start, stop, delta) = game_of_life.generate(1500, delta=1, seed=5), game_of_life.generate(200, delta=1, seed=6)
    guess = (net.lookup_posterior(*train, stop, delta) > 0.5).astype(np.uint8)
    dead = game_of_life.score_2013(np.zeros_like(stop), start).mean()
    assert game_of_life.score_2013(guess, start).mean() < 0.9 * dead


def test_controls_search_never_raises_the_2020_score_and_cannot_leave_the_dead_board():
    train, (_, stop, delta) = game_of_life.generate(200, seed=7), game_of_life.generate(60, seed=8)
    boards = experiment.controls(train, stop, delta, sweeps=3, seed=0)
    assert set(boards) == set(experiment.CONTROLS)
    before, after = (game_of_life.score_2020(b, stop, delta) for b in (stop, boards["stop_sweeps"]))
    assert np.all(after <= before) and after.mean() < before.mean()  # it improves, never worsens a board
    np.testing.assert_array_equal(boards["dead_sweeps"], 0)  # one live cell dies in one step
    np.testing.assert_array_equal(boards["start_is_stop"], stop)


def test_net_predictors_keep_a_true_start_and_never_lose_to_the_searched_stop_board():
    _, stop, delta = game_of_life.generate(40, seed=9)
    searched = experiment.controls((stop, stop, delta), stop, delta, sweeps=2)["stop_sweeps"]
    rng = np.random.default_rng(0)
    p = rng.random(stop.shape)  # a useless net
    boards, picked, search_picked = experiment.net_predictors(p, stop, delta, searched, sweeps=2)
    assert sum(picked) == sum(search_picked) == len(stop)
    np.testing.assert_array_equal(boards["cnn"], p > 0.5)
    ours, control = (game_of_life.score_2020(b, stop, delta) for b in (boards["cnn_search"], searched))
    assert np.all(ours <= control)
    assert np.all(game_of_life.score_2020(boards["cnn_sweeps"], stop, delta)
                  <= game_of_life.score_2020(boards["cnn"], stop, delta))
    start, stop, delta = game_of_life.generate(20, seed=10)  # a perfect net: every predictor is exact
    boards, _, _ = experiment.net_predictors(start.astype(float), stop, delta, stop, sweeps=1)
    for key in ("cnn", "cnn_sweeps"):
        np.testing.assert_array_equal(boards[key], start)
    for key in ("cnn_checked", "cnn_search"):
        assert game_of_life.score_2020(boards[key], stop, delta).max() == 0


def _series(**overall):
    """Fake per-seed scores (seeds 0-2): every delta gets the (2013, 2020) value given, a number
    or one per seed."""
    def per_seed(v, s):
        return v[s] if isinstance(v, tuple) else v
    return {k: (k.replace("6x32:", "CNN 6x32 "), {s: {score: dict.fromkeys(experiment.DELTAS, per_seed(v[i], s))
                                                    for i, score in enumerate(experiment.SCORES)} for s in range(3)})
            for k, v in overall.items()}


def test_target_and_best_per_score_follow_the_numbers():
    series = _series(**{"6x32:cnn": (0.14, 0.13), "6x32:cnn_search": (0.17, (0.070, 0.071, 0.072)),
                        "lookup": (0.15, (0.16, 0.14, 0.145)), "all_dead": (0.16, 0.15)})
    text = experiment._target(series, "6x32:cnn_search")
    assert "NOT reached" in text and "2013 score 6.2% above all dead" in text
    assert "2020 score 52.7% below all dead overall, significantly lower at delta 1, 2, 3, 4, 5" in text
    best = experiment._best_per_score(series, ["6x32:cnn", "6x32:cnn_search", "lookup"])
    assert "2013 score: CNN 6x32 cnn, 12.5% below all dead (NOT reached)" in best
    assert "2020 score: CNN 6x32 cnn_search, 52.7% below all dead (reached)" in best
    assert "no difference detected" in experiment._claim(series, "lookup", "all_dead", "2020")
    assert "lookup is lower than all_dead (paired difference -0.0100" in experiment._claim(
        series, "lookup", "all_dead", "2013")
    del series["6x32:cnn"][1][0]  # a partial run: paired on the seeds both have
    assert "n=2" in experiment._claim(series, "6x32:cnn", "all_dead", "2013")


def test_unequal_net_lists_are_refused():
    with pytest.raises(ValueError, match=r"layers=\(6, 10\), filters=\(32,\)"):
        _run.plan("game_of_life", sets=["filters=32"])
