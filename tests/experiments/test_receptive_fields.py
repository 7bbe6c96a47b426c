"""The receptive-field maths (experiments/_fields.py) against known answers, and the smoke run."""

import json
import os

import numpy as np
import pytest
from keras_seminar.experiments import _fields, _run
from keras_seminar.experiments._receptive_fields_render import decode, encode

XY = _fields.pixel_coordinates()


def blob(center, sigma=2.0):
    d2 = ((XY - np.asarray(center, dtype=float)) ** 2).sum(axis=1)
    return np.exp(-d2 / (2 * sigma ** 2))


def test_mask_drops_constant_pixels():
    rng = np.random.default_rng(0)
    images = np.zeros((50, 28, 28, 1))
    images[:, 5:20, 8:12, 0] = rng.uniform(size=(50, 15, 4, 1)).squeeze(-1)
    images[:, 0, 0, 0] = 0.7                      # bright but constant
    keep = _fields.mask(images, threshold=0.05)
    assert keep.shape == (784,) and keep.sum() == 15 * 4
    assert not keep[0] and keep[5 * 28 + 8] and not keep[5 * 28 + 12]


def test_gaussian_blob_is_more_localized_than_noise_and_radius_scales_with_width():
    noise = np.random.default_rng(0).normal(size=(8, 784))
    blobs = np.stack([blob((14, 14), 2.0), blob((14, 14), 4.0)])
    r_noise = _fields.gyration_radius(noise, XY)
    r_blob = _fields.gyration_radius(blobs, XY)
    assert r_noise.min() > 9.0 and r_blob[0] < 3.0 < r_blob[1]
    # w**2 of a Gaussian of width s has width s / sqrt(2): gyration radius s in 2-D.
    np.testing.assert_allclose(r_blob[0], 2.0, rtol=0.01)
    half = _fields.half_energy_radius(np.vstack([blobs, noise]), XY)
    assert half[0] < half[1] < half[2:].min()
    np.testing.assert_allclose(_fields.centroid(blob((6, 20))[None], XY), [[6, 20]], atol=0.05)


def test_near_zero_fraction_and_alive():
    f = np.array([[0.0, 0.005, 0.5, -0.02], [0.0, 0.0, 0.0, 1e-6]])
    np.testing.assert_allclose(_fields.near_zero_fraction(f, 0.01), [0.5, 1.0])
    assert _fields.alive(f).tolist() == [True, False]


def test_sliced_wasserstein_is_zero_on_itself_and_grows_with_the_shift():
    maps = np.stack([blob((14, 8 + s)) for s in (0, 2, 4, 8)])
    d = _fields.sliced_wasserstein(maps, XY, n_projections=64)
    np.testing.assert_allclose(np.diag(d), 0.0, atol=1e-12)
    np.testing.assert_allclose(d, d.T, atol=1e-9)
    assert d[0, 1] < d[0, 2] < d[0, 3]
    mean_cos = np.mean(np.abs(np.cos(np.pi * np.arange(64) / 64)))  # a pure shift v: |v| mean|cos|
    np.testing.assert_allclose(d[0, 3], 8 * mean_cos, rtol=0.02)
    # |field| maps: the sign of a field does not matter; its scale neither.
    np.testing.assert_allclose(_fields.sliced_wasserstein(np.stack([maps[1], -3 * maps[1]]), XY), 0.0, atol=1e-12)


def test_cosine_and_response_distances():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 10))
    b = np.vstack([a[0], 2 * a[0], -a[0]])
    np.testing.assert_allclose(_fields.cosine_distance(b), [[0, 0, 2], [0, 0, 2], [2, 2, 0]], atol=1e-12)
    # The data never vary on pixels 5..9: fields that differ only there respond identically.
    x = np.hstack([rng.normal(size=(200, 5)), np.zeros((200, 5))])
    c = a[0].copy()
    c[5:] = rng.normal(size=5)
    d = _fields.response_distance(np.vstack([a[0], c, a[1]]), x)
    assert d[0, 1] < 1e-9 < 0.05 < d[0, 2]
    assert _fields.cosine_distance(np.vstack([a[0], c]))[0, 1] > 0.05


def test_spearman_and_classical_mds_recover_a_known_configuration():
    rng = np.random.default_rng(2)
    points = rng.normal(size=(12, 2)) * [3.0, 1.0]
    dist = np.sqrt(((points[:, None] - points[None]) ** 2).sum(axis=2))
    emb = _fields.classical_mds(dist)
    np.testing.assert_allclose(np.sqrt(((emb[:, None] - emb[None]) ** 2).sum(axis=2)), dist, atol=1e-9)
    assert _fields.spearman(dist, dist ** 2) == pytest.approx(1.0)
    assert _fields.spearman(dist, -dist) == pytest.approx(-1.0)


def test_knn_graph_and_neighbour_spread():
    line = np.arange(10, dtype=float)[:, None] * [1.0, 0.0]
    dist = np.abs(line[:, 0][:, None] - line[:, 0][None])
    edges = _fields.knn_edges(dist, 1)
    assert edges == [(i, i + 1) for i in range(9)]
    assert _fields.neighbour_spread(edges, line) == pytest.approx(1.0 / (11 / 3))  # mean |i - j| = 11/3
    shuffled = np.random.default_rng(3).permutation(10)
    assert _fields.neighbour_spread(edges, line[shuffled]) > 0.6


def planted(m=30, k=12, n=600, active=3, seed=0):
    rng = np.random.default_rng(seed)
    d = _fields.unit(rng.normal(size=(k, m))).T
    codes = np.zeros((n, k))
    for row in codes:
        row[rng.choice(k, active, replace=False)] = rng.choice([-1, 1], active) * rng.uniform(1, 2, active)
    return d, codes, codes @ d.T + 0.01 * rng.normal(size=(n, m))


def test_fista_codes_are_sparse_and_reconstruct_a_planted_signal():
    d, codes, x = planted()
    a = _fields.sparse_codes(x, d, lam=0.05, steps=300)
    assert np.mean(a != 0) < 0.35 and np.mean(codes != 0) == 0.25
    assert ((x - a @ d.T) ** 2).sum() / (x ** 2).sum() < 0.01
    assert _fields.objective(x, d, a, 0.05) < _fields.objective(x, d, np.zeros_like(a), 0.05)
    assert np.mean(_fields.sparse_codes(x, d, lam=5.0, steps=50) != 0) < np.mean(a != 0)


def test_dictionary_learning_lowers_the_objective_and_recovers_a_planted_dictionary():
    d, _, x = planted()
    learned, history = _fields.learn_dictionary(x, 12, lam=0.05, iterations=100, code_steps=50, seed=1)
    np.testing.assert_allclose(np.linalg.norm(learned, axis=0), 1.0)
    assert history[-1] < 0.5 * history[0]
    assert all(b <= a + 1e-9 for a, b in zip(history[:-2], history[1:-1]))  # monotone until renormalized
    match = np.abs(learned.T @ d).max(axis=0)  # each planted atom's best |cos| among the learned
    assert np.sum(match > 0.95) >= 8 and _fields.best_match(d.T, learned.T) > 0.85
    start = _fields.unit(x[np.random.default_rng(1).choice(len(x), 12, replace=False)])  # its start
    assert _fields.best_match(d.T, start) < 0.8


def test_thumbnail_codec_round_trip():
    f = np.random.default_rng(4).normal(size=(3, 784))
    back = decode(encode(f)).reshape(3, 784)
    np.testing.assert_allclose(back, f / np.abs(f).max(axis=1, keepdims=True), atol=0.5 / 127 + 1e-9)


def test_smoke_records_every_arm_and_seed_and_rerenders(smoke_run):
    path, tmp_path = smoke_run("receptive_fields")
    text = open(path).read()
    results = json.load(open(tmp_path / "receptive_fields.json"))
    arms = sorted((r["arm"]["arm"], r["seed"]) for r in results["runs"])
    assert arms == sorted((a, s) for a in ("initial", "free", "l12", "sparse_coding") for s in (0, 1))
    for r in results["runs"]:
        assert 300 < r["masked_pixels"] < 784 and 0 <= r["olshausen_field"] <= 1
        assert set(r["agreement"]) == {"weight~response", "weight~wasserstein", "response~wasserstein"}
        assert ("show" in r) == (r["seed"] == 0)
    pngs = sorted(f for f in os.listdir(tmp_path) if f.endswith(".png"))
    assert pngs == ["receptive_fields_fields.png", "receptive_fields_graph_mnist.png",
                    "receptive_fields_summary.png"]
    assert all(f"]({png})" in text for png in pngs) and "radius of gyration" in text
    os.remove(path)
    assert open(_run.render("receptive_fields", tmp_path)).read() == text
