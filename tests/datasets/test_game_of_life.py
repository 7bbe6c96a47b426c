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
