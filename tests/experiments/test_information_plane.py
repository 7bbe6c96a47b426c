"""The 12-bit task of Shwartz-Ziv & Tishby (2017), its vectorized runs, and the random control on it."""

import dataclasses

import numpy as np
import pytest
from keras_seminar.experiments import _information_task as task
from keras_seminar.experiments import _protocol, information_plane

from keras_seminar.callbacks.information_plane import entropy, estimate_information, random_control
from keras_seminar.errors import UsageError


def _permutation(transform):
    """The vertex permutation that the 3x3 `transform` induces on the icosahedron (it must map the set onto itself)."""
    v = task.icosahedron()
    moved = v @ np.asarray(transform, float).T
    perm = [int(np.argmin(np.linalg.norm(v - m, axis=1))) for m in moved]
    np.testing.assert_allclose(v[perm], moved, atol=1e-12)
    return perm


def test_labels_reproduce_the_papers_fractions_and_are_symmetric():
    x, y = task.patterns(), task.labels()
    assert x.shape == (4096, 12) and len(np.unique(x, axis=0)) == 4096
    ones = x.sum(1).astype(int)
    fractions = [y[ones == k].sum() for k in range(13)]
    assert fractions[:5] == [0] * 5 and fractions[5:8] == [60, 532, 732]  # of 792, 924, 792 patterns
    assert all(f == np.sum(ones == k) for k, f in enumerate(fractions) if k >= 8)
    assert y.sum() == 2118 and entropy(y) == pytest.approx(0.99916, abs=1e-5)
    cyclic = [[0, 1, 0], [0, 0, 1], [1, 0, 0]]  # (x, y, z) -> (y, z, x): a rotation of the icosahedron
    for transform in (cyclic, -np.eye(3)):  # ... and the point reflection
        perm = _permutation(transform)
        assert sorted(perm) == list(range(12)) and perm != list(range(12))
        moved = np.zeros_like(x)
        moved[:, perm] = x  # the pattern carried along with its points
        np.testing.assert_allclose(task.rule(moved), task.rule(x), atol=1e-9)


def _config(**overrides):
    base = dict(hidden=(5, 3), epochs=3, batch_size=512, learning_rate=0.01, log_points=2, chunk_epochs=2,
                steps_per_execution=4, train_fraction=0.85)
    smoke = _protocol.get("information_plane").config_for("smoke")
    return dataclasses.replace(smoke, **{**base, **overrides})


def _trained(members, config):
    measured = []
    task.train(members, config, lambda e, acts, acc: measured.append((e, acts, acc)))
    return measured


def test_runs_trained_together_equal_the_run_trained_alone():
    config = _config()
    alone, together = _trained([("tanh", 3)], config), _trained([("relu", 5), ("tanh", 3)], config)
    assert [e for e, _, _ in alone] == [e for e, _, _ in together] == [0, 1, 3]
    for (_, a, acc_a), (_, b, acc_b) in zip(alone, together, strict=True):
        for la, lb in zip(a, b, strict=True):
            np.testing.assert_allclose(la[:, 0], lb[:, 1], atol=1e-5)  # seed 3's own weights, split and order
        assert acc_a[0] == pytest.approx(acc_b[1], abs=1e-3)
    assert together[-1][1][0][:, 0].min() >= 0 > together[-1][1][0][:, 1].min()  # ReLU and tanh


def test_trained_net_differs_from_random_activations_with_random_labels():
    config = _config(hidden=(10, 7, 5, 4, 3), epochs=60, batch_size=256, learning_rate=0.01, log_points=1,
                     chunk_epochs=60, steps_per_execution=64)
    epoch, acts, acc = _trained([("tanh", 0)], config)[-1]
    assert epoch == 60 and acc[0][0] > 0.9
    y, t = task.labels(), acts[-2][:, 0]  # the last hidden layer, 3 tanh units
    options = {"bins": 30, "bin_range": (-1, 1)}
    ixt, ity = estimate_information(t, y, **options)
    control_ixt, control_ity = random_control(t, y, seed=0, **options)
    _, control_real_ity = random_control(t, y, seed=0, shuffle_labels=False, **options)
    assert ity > 0.5 and ixt < 12 - 3  # fits Y with far fewer codes than inputs
    assert control_ixt > 11 and control_ixt > ixt + 3  # random activations: nearly one code per input
    # ... which is also why the control's I(T;Y) sits near H(Y) whatever the labels: the plug-in
    # bias of nearly unique codes, the saturation the report prints beside every estimate.
    assert control_ity > 0.5 and control_real_ity > 0.5


def test_fixed_relu_range_spans_the_whole_run():
    early = [np.full((4, 3), 0.5), np.full((4, 1), 0.2), np.zeros((4, 2))]
    late = [np.full((4, 3), 2.5), np.full((4, 1), 0.1), np.zeros((4, 2))]
    assert information_plane.ranges("relu", [early, late], 2) == [(0.0, 2.5), (0.0, 2.5), (0.0, 1.0)]
    assert information_plane.ranges("tanh", [early], 2) == [(-1.0, 1.0), (-1.0, 1.0), (0.0, 1.0)]


def test_random_control_checks_its_arguments():
    t, y = np.zeros((8, 2)), np.arange(8) % 2
    with pytest.raises(UsageError, match="shuffle_labels='no'"):
        random_control(t, y, shuffle_labels="no")
    with pytest.raises(UsageError, match="seed=-1"):
        random_control(t, y, seed=-1)
