"""The Reverse-Game-of-Life net: a delta-conditioned CNN on the wrap-padded board, with a soft
(differentiable) forward pass of Conway's rules so it can train against the 2020 score too."""

import keras
import numpy as np
from keras import ops

DELTAS = 5


def features(stop, delta, pad):
    """`{"board": (N, 25+2p, 25+2p, 1) wrap-padded stop boards, "delta": (N, 5) one-hot}`."""
    board = np.pad(stop, ((0, 0), (pad, pad), (pad, pad)), mode="wrap").astype("float32")[..., None]
    return {"board": board, "delta": np.eye(DELTAS, dtype="float32")[np.asarray(delta) - 1]}


def soft_life_step(p):
    """One step of Conway's rules (B3/S23) on a torus for live probabilities `p` (N, H, W).

    With `n` the expected neighbour count, `next = tri(n - 3) + p * tri(n - 2)`, `tri(x) =
    max(0, 1 - |x|)`: exactly the life rule when `p` is 0/1, and differentiable in between.
    """
    n = sum(ops.roll(ops.roll(p, dy, axis=1), dx, axis=2)
            for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))
    tri = lambda x: ops.relu(1.0 - ops.abs(x))  # noqa: E731
    return ops.clip(tri(n - 3.0) + p * tri(n - 2.0), 0.0, 1.0)


class SoftForward(keras.layers.Layer):
    """Evolves live probabilities (N, H, W, 1) by each example's delta (one-hot (N, 5))."""

    def call(self, p, delta):
        b, out = p[..., 0], 0.0
        for k in range(DELTAS):
            b = soft_life_step(b)
            out = out + b * delta[:, k:k + 1, None]
        return out[..., None]

    def compute_output_shape(self, p_shape, delta_shape):
        return p_shape


def build(layers, filters, size=25):
    """`layers` 3x3 "valid" convs (the input is wrap-padded by `layers`, so the output is the
    board) with the delta one-hot added as a per-channel bias in every layer; outputs the start
    board's live probabilities ("start") and their soft evolution by delta ("stop")."""
    board = keras.Input((size + 2 * layers, size + 2 * layers, 1), name="board")
    delta = keras.Input((DELTAS,), name="delta")
    x = board
    for i in range(layers):
        x = keras.layers.Conv2D(filters, 3, name=f"conv{i + 1}")(x)
        shift = keras.layers.Dense(filters, use_bias=False, name=f"delta{i + 1}")(delta)
        x = keras.layers.ReLU(name=f"relu{i + 1}")(x + shift[:, None, None, :])
    start = keras.layers.Conv2D(1, 1, activation="sigmoid", name="start")(x)
    stop = SoftForward(name="stop")(start, delta)
    return keras.Model({"board": board, "delta": delta}, {"start": start, "stop": stop}, name="reverse_life")


def predict(model, stop, delta, pad, batch_size=512):
    """0/1 start boards (N, 25, 25): the net's live probability thresholded at 1/2."""
    p = model.predict(features(stop, delta, pad), batch_size=batch_size, verbose=0)["start"][..., 0]
    return (p > 0.5).astype(np.uint8)


def window_codes(boards, radius):
    """Each cell's (2r+1)^2 torus neighbourhood of the 0/1 `boards` (N, H, W) as one integer (N, H, W)."""
    code = np.zeros(np.shape(boards), np.int64)
    offsets = range(-radius, radius + 1)
    for bit, (dy, dx) in enumerate((dy, dx) for dy in offsets for dx in offsets):
        code |= np.roll(boards, (dy, dx), axis=(1, 2)).astype(np.int64) << bit
    return code


def lookup_posterior(train_start, train_stop, train_delta, stop, delta, radius=2, prior=10.0):
    """P(start cell alive | delta, the stop board's (2r+1)^2 neighbourhood of the cell), counted on
    training games: a tile look-up as the 2013 contest's entries made, backing off to smaller tiles.

    Per delta, the estimate starts at the training start boards' live density and is refined tile
    by tile, r = 0 (the cell alone), 1 (3x3), ..., `radius`: `P_r = (alive_r + prior * P_{r-1}) /
    (seen_r + prior)`, so an unseen tile keeps the smaller tile's estimate and a rare one leans on
    it. Predicting alive where P > 1/2 minimises the expected 2013 score (MAE) cell by cell.

    Returns:
        Live probabilities (N, H, W) for the games `(stop, delta)`.
    """
    if not 0 <= radius <= 3:  # 7x7 = 49 bits fit an int64 code
        raise ValueError(f"Expected radius in 0..3. Received: radius={radius!r}")
    stop, delta = np.asarray(stop), np.asarray(delta)
    out = np.zeros(stop.shape)
    for k in np.unique(delta):
        rows, train = delta == k, np.asarray(train_delta) == k
        alive = train_start[train].ravel().astype(np.float64)
        p = np.full(stop[rows].size, alive.mean() if alive.size else 0.0)
        for r in range(radius + 1) if alive.size else ():
            keys, inverse = np.unique(window_codes(train_stop[train], r), return_inverse=True)
            seen, live = np.bincount(inverse.ravel()), np.bincount(inverse.ravel(), weights=alive)
            code = window_codes(stop[rows], r).ravel()
            i = np.searchsorted(keys, code).clip(max=len(keys) - 1)
            hit = keys[i] == code
            p = (np.where(hit, live[i], 0.0) + prior * p) / (np.where(hit, seen[i], 0) + prior)
        out[rows] = p.reshape(stop[rows].shape)
    return out
