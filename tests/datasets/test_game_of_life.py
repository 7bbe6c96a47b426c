"""The Reverse Game of Life generator: Conway's rules on a torus, seeding, argument checks."""

import numpy as np
import pytest

from keras_seminar.datasets import game_of_life


def _board(cells, size=6):
    b = np.zeros((size, size), np.uint8)
    for r, c in cells:
        b[r, c] = 1
    return b


def test_blinker_oscillates():
    horizontal = _board([(2, 1), (2, 2), (2, 3)])
    vertical = _board([(1, 2), (2, 2), (3, 2)])
    np.testing.assert_array_equal(game_of_life.step(horizontal), vertical)
    np.testing.assert_array_equal(game_of_life.step(horizontal, 2), horizontal)


def test_block_is_still():
    block = _board([(1, 1), (1, 2), (2, 1), (2, 2)])
    np.testing.assert_array_equal(game_of_life.step(block, 7), block)


def test_glider_moves_diagonally_and_wraps_around_the_torus():
    glider = _board([(0, 1), (1, 2), (2, 0), (2, 1), (2, 2)], size=8)
    np.testing.assert_array_equal(game_of_life.step(glider, 4), np.roll(glider, (1, 1), axis=(0, 1)))
    # 32 steps move it 8 cells: once around the 8 x 8 torus, back where it started.
    np.testing.assert_array_equal(game_of_life.step(glider, 32), glider)


def test_step_is_vectorised_over_boards():
    boards = np.stack([_board([(2, 1), (2, 2), (2, 3)]), _board([(1, 1), (1, 2), (2, 1), (2, 2)])])
    out = game_of_life.step(boards)
    for board, evolved in zip(boards, out):
        np.testing.assert_array_equal(game_of_life.step(board), evolved)


def test_generate_follows_the_kaggle_recipe():
    start, stop, delta = game_of_life.generate(200, seed=1)
    assert start.shape == stop.shape == (200, 25, 25) and start.dtype == np.uint8
    assert set(np.unique(delta)) <= set(range(1, 6)) and len(np.unique(delta)) == 5
    for i in range(0, 200, 17):
        np.testing.assert_array_equal(game_of_life.step(start[i], int(delta[i])), stop[i])
    assert stop.reshape(200, -1).any(axis=1).all()  # empty stop boards are redrawn
    fixed = game_of_life.generate(5, delta=3, seed=0)[2]
    np.testing.assert_array_equal(fixed, 3)


def test_generate_is_deterministic_by_seed():
    a, b = game_of_life.generate(20, seed=7), game_of_life.generate(20, seed=7)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], game_of_life.generate(20, seed=8)[0])


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 0}, "n=0"),
    ({"n": 2, "size": 2}, "size=2"),
    ({"n": 2, "delta": 0}, "delta=0"),
    ({"n": 2, "warmup": -1}, "warmup=-1"),
    ({"n": 2, "density": (0.9, 0.1)}, r"density=\(0.9, 0.1\)"),
    ({"n": 2, "density": 0.5}, "density=0.5"),
])
def test_generate_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        game_of_life.generate(**kwargs)


def test_step_rejects_bad_boards():
    with pytest.raises(ValueError, match="0/1 boards"):
        game_of_life.step(np.full((3, 3), 2))
    with pytest.raises(ValueError, match="steps=-1"):
        game_of_life.step(np.zeros((3, 3)), -1)


def test_scores_2013_and_2020_on_hand_made_boards():
    blinker_h = _board([(2, 1), (2, 2), (2, 3)])
    blinker_v = _board([(1, 2), (2, 2), (3, 2)])
    block = _board([(1, 1), (1, 2), (2, 1), (2, 2)])
    stop = np.stack([blinker_v, block, blinker_v])
    start = np.stack([blinker_h, block, blinker_h])
    # Board 0: the recorded start; board 1: dead (stop has 4 live cells); board 2: the stop board
    # itself, which is not the recorded start but also not a predecessor (it evolves to blinker_h).
    pred = np.stack([blinker_h, np.zeros_like(block), blinker_v])
    np.testing.assert_allclose(game_of_life.score_2013(pred, start), [0, 4 / 36, 4 / 36])
    np.testing.assert_allclose(game_of_life.score_2020(pred, stop, np.array([1, 1, 1])), [0, 4 / 36, 4 / 36])
    # With delta 2 the vertical blinker is its own ancestor: 2013 still counts it wrong, 2020 not.
    np.testing.assert_allclose(game_of_life.score_2020(pred[2:], stop[2:], 2), [0.0])
    assert game_of_life.score_2013(pred[2:], start[2:])[0] > 0


def test_evolve_per_board_delta_and_bad_input():
    glider = _board([(0, 1), (1, 2), (2, 0), (2, 1), (2, 2)], size=8)
    out = game_of_life.evolve(np.stack([glider, glider]), np.array([0, 4]))
    np.testing.assert_array_equal(out[0], glider)
    np.testing.assert_array_equal(out[1], np.roll(glider, (1, 1), axis=(0, 1)))
    with pytest.raises(ValueError, match="shape=\\(8, 8\\)"):
        game_of_life.evolve(glider, 1)
    with pytest.raises(ValueError, match="delta=\\[-1"):
        game_of_life.evolve(glider[None], -1)
    with pytest.raises(ValueError, match="pred.shape=\\(1, 8, 8\\), stop.shape=\\(8, 8\\)"):
        game_of_life.score_2020(glider[None], glider, 1)


def test_refine_never_raises_the_2020_score_and_keeps_true_predecessors():
    start, stop, delta = game_of_life.generate(60, seed=4)
    before = game_of_life.score_2020(stop, stop, delta)
    boards, flips = game_of_life.refine(stop, stop, delta, sweeps=3)
    after = game_of_life.score_2020(boards, stop, delta)
    assert np.all(after <= before)
    assert after.mean() < 0.8 * before.mean()  # greedy flips from the stop board help a lot
    changed = (boards != stop).reshape(len(stop), -1).sum(axis=1)
    assert np.all(changed <= flips) and flips.sum() > 0
    same, none = game_of_life.refine(start, stop, delta, sweeps=3)  # already exact: nothing to do
    np.testing.assert_array_equal(same, start)
    assert none.sum() == 0


def test_refine_finds_a_single_missing_cell():
    # A blinker's predecessor with one cell knocked out: one flip restores an exact predecessor.
    stop = _board([(2, 1), (2, 2), (2, 3)], size=9)[None]
    guess = _board([(1, 2), (2, 2)], size=9)[None]
    boards, flips = game_of_life.refine(guess, stop, 1, sweeps=2)
    assert game_of_life.score_2020(boards, stop, 1)[0] == 0
    assert flips[0] >= 1


@pytest.mark.parametrize("kwargs, match", [
    ({"sweeps": -1}, "sweeps=-1"),
    ({"delta": 0}, "delta="),
    ({"delta": 5, "boards": np.zeros((1, 9, 9), np.uint8), "stop": np.zeros((1, 9, 9), np.uint8)}, "side=9"),
])
def test_refine_rejects_bad_arguments(kwargs, match):
    args = {"boards": np.zeros((2, 25, 25), np.uint8), "stop": np.zeros((2, 25, 25), np.uint8), "delta": 1}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        game_of_life.refine(**args)
