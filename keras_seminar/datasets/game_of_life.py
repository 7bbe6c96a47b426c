"""Synthetic "Conway's Reverse Game of Life" data (Kaggle, 2020): predict a board from its future.

Boards are 25 x 25 on a torus (the edges wrap). As in the Kaggle competition each example is
made by (1) filling a board at a density drawn uniformly from [1%, 99%], (2) evolving it 5
warm-up steps, which gives `start`, (3) evolving `start` by `delta` in 1..5 steps, which gives
`stop`; games whose `stop` board is empty are drawn again. The task is to recover `start`
from `(stop, delta)`; Kaggle scored it by the mean absolute error over cells.

Example:
    >>> from keras_seminar.datasets import game_of_life
    >>> start, stop, delta = game_of_life.generate(1000, seed=0)
    >>> start.shape, start.dtype, delta[:3]
    ((1000, 25, 25), dtype('uint8'), array([5, 3, 1]))

Reference: https://www.kaggle.com/competitions/conways-reverse-game-of-life-2020
"""

import numpy as np

__all__ = ["evolve", "generate", "NAME", "refine", "score_2013", "score_2020", "SIZE", "step"]

NAME = "game_of_life"
SIZE = 25


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"Expected {name} to be an integer >= {low}. Received: {name}={value!r}")
    return int(value)


def step(boards, steps=1):
    """Evolves boards `steps` generations of Conway's rules (B3/S23) on a torus.

    Args:
        boards: 0/1 array (H, W) or (N, H, W).
        steps: generations, >= 0.

    Returns:
        A new uint8 array of the same shape.
    """
    steps = _check_int("steps", steps, 0)
    boards = np.asarray(boards)
    if boards.ndim not in (2, 3) or not np.isin(boards, (0, 1)).all():
        raise ValueError(f"Expected 0/1 boards of shape (H, W) or (N, H, W). "
                         f"Received: shape={boards.shape}, values={np.unique(boards)[:5]}")
    b = boards.astype(np.uint8)
    axes = (-2, -1)
    for _ in range(steps):
        neighbours = sum(np.roll(b, (dy, dx), axis=axes)
                         for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))
        b = ((neighbours == 3) | ((b == 1) & (neighbours == 2))).astype(np.uint8)
    return b


def generate(n, size=SIZE, delta=None, warmup=5, density=(0.01, 0.99), seed=0, max_tries=20):
    """Draws `n` Reverse-Game-of-Life examples, vectorised over the whole batch.

    Args:
        n: number of examples, >= 1.
        size: board side (Kaggle: 25).
        delta: steps from start to stop: None draws uniformly from 1..5 per example, an int
            fixes it.
        warmup: steps from the random board to `start` (Kaggle: 5).
        density: (low, high) range of the initial fill probability, inside [0, 1].
        seed: seed of NumPy's generator; the same seed gives the same data.
        max_tries: rounds of redrawing games whose stop board is empty.

    Returns:
        `(start, stop, delta)`: uint8 arrays (n, size, size) twice, and int64 (n,).
    """
    n = _check_int("n", n, 1)
    size = _check_int("size", size, 3)
    warmup = _check_int("warmup", warmup, 0)
    if delta is not None:
        delta = _check_int("delta", delta, 1)
    try:
        low, high = (float(d) for d in density)
    except (TypeError, ValueError):
        raise ValueError(f"Expected density to be a pair (low, high). Received: density={density!r}") from None
    if not 0 <= low <= high <= 1:
        raise ValueError(f"Expected 0 <= low <= high <= 1. Received: density={density!r}")
    rng = np.random.default_rng(seed)
    start = np.zeros((n, size, size), np.uint8)
    stop = np.zeros_like(start)
    deltas = np.full(n, delta or 0, np.int64)
    todo = np.arange(n)
    for _ in range(_check_int("max_tries", max_tries, 1)):
        m = len(todo)
        p = rng.uniform(low, high, size=(m, 1, 1))
        s = step((rng.random((m, size, size)) < p).astype(np.uint8), warmup)
        d = rng.integers(1, 6, size=m) if delta is None else np.full(m, delta)
        e = s.copy()
        for k in range(1, d.max() + 1):  # evolve all, freeze each board once it has had its delta
            e = np.where((d >= k)[:, None, None], step(e), e)
        start[todo], stop[todo], deltas[todo] = s, e, d
        todo = todo[~e.reshape(m, -1).any(axis=1)]
        if not len(todo):
            break
    return start, stop, deltas


def evolve(boards, delta):
    """Evolves each board (N, H, W) its own `delta[i]` steps (an int applies to every board)."""
    boards = np.asarray(boards)
    if boards.ndim != 3:
        raise ValueError(f"Expected boards of shape (N, H, W). Received: shape={boards.shape}")
    delta = np.broadcast_to(np.asarray(delta), (len(boards),))
    if not np.issubdtype(delta.dtype, np.integer) or (delta < 0).any():
        raise ValueError(f"Expected non-negative integer deltas. Received: delta={np.unique(delta)[:5]}")
    out = step(boards, 0)
    for k in np.unique(delta):
        m = delta == k
        out[m] = step(out[m], int(k))
    return out


def refine(boards, stop, delta, sweeps=20, seed=0):
    """Greedy bit-flip search on the forward rule: lowers each board's 2020 score.

    Flipping one cell of a start board changes its evolution only within `delta` cells of it, so
    flips more than `2 * delta` cells apart act on disjoint parts of the stop board. Each sweep
    therefore tries a lattice of such flips at once for every offset of the lattice (shifted at
    random each sweep, so every cell is tried), and keeps each flip that strictly lowers the
    number of wrong stop cells in its window. The 2020 score of every board never rises; a board
    that already evolves to `stop` is left as it is.

    Args:
        boards: 0/1 start boards (N, H, W) to improve (e.g. a net's thresholded guess).
        stop: 0/1 stop boards (N, H, W).
        delta: steps from start to stop per board (N,) or one int.
        sweeps: rounds over every lattice offset, >= 0; search stops early when a sweep changes
            nothing.
        seed: seed of the random lattice shifts.

    Returns:
        `(boards, flips)`: the improved uint8 boards and the number of flips kept per board.
    """
    sweeps = _check_int("sweeps", sweeps, 0)
    boards, stop = (step(b, 0) for b in _pair(boards, stop, "stop"))
    delta = np.broadcast_to(np.asarray(delta), (len(boards),))
    if not np.issubdtype(delta.dtype, np.integer) or (delta < 1).any():
        raise ValueError(f"Expected integer deltas >= 1. Received: delta={np.unique(delta)[:5]}")
    rng = np.random.default_rng(seed)
    size = boards.shape[1]
    if boards.shape[2] != size:
        raise ValueError(f"Expected square boards. Received: shape={boards.shape}")
    flips = np.zeros(len(boards), np.int64)
    for k in np.unique(delta):
        k = int(k)
        rows = np.flatnonzero(delta == k)
        side = 2 * k + 1
        per_axis = size // side
        if per_axis < 1:
            raise ValueError(f"Expected boards of side >= 2 * delta + 1. Received: side={size}, delta={k}")
        b, s = boards[rows], stop[rows]
        wrong = step(b, k) != s
        for _ in range(sweeps):
            kept = 0
            shift = rng.integers(0, size, size=2)
            for offset in rng.permutation(side * side):
                ys = (shift[0] + offset // side + side * np.arange(per_axis)) % size
                xs = (shift[1] + offset % side + side * np.arange(per_axis)) % size
                trial = b.copy()
                trial[:, ys[:, None], xs[None, :]] ^= 1
                trial_wrong = step(trial, k) != s
                change = trial_wrong.astype(np.int16) - wrong
                win_y = ((ys[:, None] + np.arange(-k, k + 1)) % size).ravel()
                win_x = ((xs[:, None] + np.arange(-k, k + 1)) % size).ravel()
                gain = change[:, win_y][:, :, win_x].reshape(len(b), per_axis, side, per_axis, side).sum(axis=(2, 4))
                keep = gain < 0
                if keep.any():
                    b[:, ys[:, None], xs[None, :]] ^= keep.astype(np.uint8)
                    # Each kept flip's window evolves as in the trial, the rest as before: the
                    # windows are disjoint, so no second evolution is needed.
                    kept_window = np.zeros_like(wrong)
                    kept_window[:, win_y[:, None], win_x[None, :]] = keep.repeat(side, 1).repeat(side, 2)
                    wrong = np.where(kept_window, trial_wrong, wrong)
                    flips[rows] += keep.sum(axis=(1, 2))
                    kept += int(keep.sum())
            if not kept:
                break
        boards[rows] = b
    return boards, flips


def score_2013(pred, start):
    """Per-board mean absolute error of the predicted start board to the recorded one (Kaggle
    2013: many start boards lead to the same stop board, only the recorded one counts)."""
    pred, start = _pair(pred, start, "start")
    return np.abs(pred.astype(np.int16) - start).mean(axis=(1, 2))


def score_2020(pred, stop, delta):
    """Per-board mean absolute error of the prediction evolved `delta` steps to the stop board
    (Kaggle 2020: any start board that leads to the stop board scores 0)."""
    pred, stop = _pair(pred, stop, "stop")
    return np.abs(evolve(pred, delta).astype(np.int16) - stop).mean(axis=(1, 2))


def _pair(pred, truth, name):
    pred, truth = np.asarray(pred), np.asarray(truth)
    if pred.shape != truth.shape or pred.ndim != 3:
        raise ValueError(f"Expected pred and {name} of one shape (N, H, W). "
                         f"Received: pred.shape={pred.shape}, {name}.shape={truth.shape}")
    return step(pred, 0), truth
