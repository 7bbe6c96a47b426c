"""The 12-bit task of Shwartz-Ziv & Tishby (2017), its vectorized runs, and the random control on it."""

import dataclasses

import keras
import numpy as np
import pytest
from keras_seminar.experiments import _information_render as _render
from keras_seminar.experiments import _information_task as task
from keras_seminar.experiments import _protocol, _report, information_plane

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
    alone, together = _trained([("tanh", 3, False)], config), _trained([("relu", 5, False), ("tanh", 3, False)], config)
    assert [e for e, _, _ in alone] == [e for e, _, _ in together] == [0, 1, 3]
    for (_, a, acc_a), (_, b, acc_b) in zip(alone, together, strict=True):
        for la, lb in zip(a, b, strict=True):
            np.testing.assert_allclose(la[:, 0], lb[:, 1], atol=1e-5)  # seed 3's own weights, split and order
        assert acc_a[0] == pytest.approx(acc_b[1], abs=1e-3)
    assert together[-1][1][0][:, 0].min() >= 0 > together[-1][1][0][:, 1].min()  # ReLU and tanh


def test_trained_net_differs_from_random_activations_with_random_labels():
    config = _config(hidden=(10, 7, 5, 4, 3), epochs=60, batch_size=256, learning_rate=0.01, log_points=1,
                     chunk_epochs=60, steps_per_execution=64)
    epoch, acts, acc = _trained([("tanh", 0, False)], config)[-1]
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


def test_permuted_label_twin_shares_split_order_and_weights_not_labels():
    y, permuted = task.labels(), task.run_labels(4, permuted=True)
    assert np.sort(permuted).tolist() == np.sort(y).tolist() and np.mean(permuted != y) > 0.3
    assert np.array_equal(task.run_labels(4, True), permuted) and np.array_equal(task.run_labels(4), y)
    measured = _trained([("tanh", 4, False), ("tanh", 4, True)], _config(learning_rate=0.05))
    first, last = measured[0][1][0], measured[-1][1][0]  # fc1 at epoch 0 and at the last epoch
    np.testing.assert_array_equal(first[:, 0], first[:, 1])  # the same initial weights
    assert np.abs(last[:, 0] - last[:, 1]).max() > 1e-3  # ... trained on different labels


def test_relu_ranges_are_per_layer_over_the_whole_run():
    early = [np.full((4, 3), 0.5), np.full((4, 1), 0.2), np.zeros((4, 2))]
    late = [np.full((4, 3), 2.5), np.full((4, 1), 0.1), np.zeros((4, 2))]
    assert information_plane.ranges("relu", [early, late], 2) == [(0.0, 2.5), (0.0, 0.2), (0.0, 1.0)]
    assert information_plane.ranges("tanh", [early], 2) == [(-1.0, 1.0), (-1.0, 1.0), (0.0, 1.0)]


def test_informations_measure_controls_at_the_end_of_fitting_and_last(rng):
    config = _protocol.get("information_plane").config
    specs = information_plane.estimators(config, "sz2017")
    assert list(specs) == ["bins30", "bins10", "bins100", "kde"] and specs["kde"][0]["noise_variance"] == 0.1
    y = np.arange(64) % 2
    acts = [[(0.1 * e + 0.05) * np.c_[2 * y - 1, rng.normal(size=64)], rng.uniform(size=(64, 2))] for e in range(4)]
    info = information_plane.informations(acts, y, [(-1.0, 1.0), (0.0, 1.0)], specs, seed=0, controls=True)
    fit = _render.fit_index(info["bins30"]["I_TY"])
    assert info["bins30"]["measured"] == sorted({*fit, 3})
    assert all((row is None) == (e not in info["bins30"]["measured"]) for e, row in enumerate(info["bins30"]["control_I_XT"]))
    twin = information_plane.informations(acts, y, [(-1.0, 1.0), (0.0, 1.0)], specs, seed=0,
                                          at={k: v["measured"] for k, v in info.items()})
    assert twin["kde"]["I_XT"][3] == info["kde"]["I_XT"][3] and (twin["kde"]["I_XT"][1] is None) == (1 not in info["kde"]["measured"])


def test_deltas_pair_each_run_with_its_controls():
    def rec(seed, xt, ty, control_xt=None):
        est = {"I_XT": xt, "I_TY": ty}
        if control_xt is not None:
            est["control_I_XT"] = control_xt
        return {"seed": seed, "estimates": {"bins30": est}}

    ty = [[0.1], [0.99], [1.0]]  # fitted at epoch index 1
    real = [rec(s, [[5], [8], [6 - s]], ty, [[9], [9], [9 - s]]) for s in range(3)]
    permuted = [rec(s, [[4], [7], [7]], ty) for s in (0, 2)]  # seed 1 has no twin: left out
    seeds, d, d_random, d_permuted = _render.deltas(real, permuted, "bins30")
    assert seeds == [0, 2] and d[:, 0].tolist() == [-2, -4]
    assert d_random[:, 0].tolist() == [0, -2] and d_permuted[:, 0].tolist() == [0, 0]


def test_plateau_rule_stops_mnist_training():
    recorder = information_plane._Recorder(None, epochs=(), plateau=True)
    recorder.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    recorder.val_loss, stops = [], []
    for epoch, loss in enumerate([1.0, 0.8, 0.7, 0.65, 0.64, 0.63, 0.625, 0.62, 0.62, 0.619, 0.619]):
        recorder.on_epoch_end(epoch, {"val_loss": loss})
        stops.append(recorder.model.stop_training)
    assert stops.index(True) == 10  # the first epoch whose last 5 fell < 3% (0.63 -> 0.619: 1.7%)


def test_random_control_checks_its_arguments():
    t, y = np.zeros((8, 2)), np.arange(8) % 2
    with pytest.raises(UsageError, match="shuffle_labels='no'"):
        random_control(t, y, shuffle_labels="no")
    with pytest.raises(UsageError, match="seed=-1"):
        random_control(t, y, seed=-1)


def test_report_claims_compression_only_apart_from_both_controls_under_every_estimator(tmp_path):
    """fc1 falls after fitting and its controls do not; the output falls as much as its permuted-label twin's."""
    config = dataclasses.replace(_config(hidden=(5,)), activations=("tanh",))
    ty = [[0.1, 0.1], [0.99, 0.99], [1.0, 1.0]]  # both layers fitted at the second measured epoch

    def run(seed, labels, last):
        xt = [[5.0, 5.0], [8.0, 8.0], last]
        est = {"I_XT": xt, "I_TY": ty, "control_I_XT": [[9.0, 9.0]] * 3, "control_real_I_TY": [[0.5, 0.5]] * 3,
               "control_I_TY": [0.5, 0.5]}
        return {"arm": {"task": "sz2017", "activation": "tanh", "labels": labels}, "seed": seed, "epochs": [0, 10, 100],
                "estimates": {"bins30": est, "kde": est}, "train_accuracy": [0.5, 1.0, 1.0],
                "test_accuracy": [0.5, 0.9, 0.9]}

    wobble = [0.05, -0.04, 0.03, -0.02]
    runs = [run(s, "real", [6.0 - 0.1 * s, 7.0 - 0.1 * s]) for s in range(4)]
    runs += [run(s, "permuted", [8.0 + w, 7.0 - 0.1 * s + w]) for s, w in enumerate(wobble)]
    report = _report.Report("information_plane", tmp_path)
    _render.render(config, {"runs": runs}, report)
    verdict = next(f for f in report.findings if "under every estimator" in f)
    assert "(30 bins, KDE bound (σ² = 0.1)) in fc1 (5) (first failed test of the others: output: Δ - the " \
           "permuted-label net's Δ is" in verdict and "under 30 bins" in verdict
