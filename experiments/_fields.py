"""Receptive-field analysis in NumPy: pixel mask, localisation, distances, graphs, sparse coding.

A "field" is one hidden unit's incoming weights over the image pixels. Every function takes the
fields as an `(n_fields, n_pixels)` array of the *masked* pixels (`mask` picks the pixels that
vary in the data) and `coords`, the `(n_pixels, 2)` row/column of each of those pixels, so a
constant background never counts. This is analysis of trained weights, not training: plain
NumPy, backend-free.

Example:
    >>> keep = mask(x_train, threshold=0.05)               # (784,) bool
    >>> f, xy = w.T[:, keep], pixel_coordinates()[keep]    # w: a (784, 64) Dense kernel
    >>> gyration_radius(f, xy).mean()                      # pixels
"""

import numpy as np


def pixel_coordinates(shape=(28, 28)):
    """`(H * W, 2)` float (row, column) of every pixel, row-major like `Flatten`."""
    rows, cols = np.indices(shape)
    return np.stack([rows.ravel(), cols.ravel()], axis=1).astype(np.float64)


def mask(images, threshold):
    """`(H * W,)` bool: the pixels whose standard deviation over `images` exceeds `threshold`."""
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    return flat.std(axis=0) > threshold


def alive(fields, relative=0.01):
    """`(n,)` bool: fields whose L2 norm is above `relative` times the largest norm (a field that
    regularization or the constraint zeroed out has no shape to measure)."""
    norms = np.linalg.norm(fields, axis=1)
    return norms > relative * norms.max() if norms.max() > 0 else np.zeros(len(fields), bool)


def near_zero_fraction(fields, threshold=0.01):
    """Per field, the fraction of its weights with `|w| < threshold`."""
    return np.mean(np.abs(fields) < threshold, axis=1)


def _energy(fields):
    e = np.asarray(fields, dtype=np.float64) ** 2
    return e / np.maximum(e.sum(axis=1, keepdims=True), 1e-300)


def centroid(fields, coords):
    """`(n, 2)`: the centre of each field's energy `w**2` over the pixel coordinates."""
    return _energy(fields) @ coords


def gyration_radius(fields, coords):
    """Per field, the radius of gyration of its energy `w**2`, in pixels:
    `sqrt(sum_p e_p |r_p - c|**2)` with `e` normalized to sum 1 and `c` its centroid."""
    e = _energy(fields)
    c = e @ coords
    sq = ((coords[None, :, :] - c[:, None, :]) ** 2).sum(axis=2)
    return np.sqrt((e * sq).sum(axis=1))


def half_energy_radius(fields, coords):
    """Per field, the radius in pixels of the smallest disc around its energy centroid that
    holds half of its energy `w**2`."""
    e = _energy(fields)
    c = e @ coords
    dist = np.sqrt(((coords[None, :, :] - c[:, None, :]) ** 2).sum(axis=2))
    order = np.argsort(dist, axis=1)
    cum = np.cumsum(np.take_along_axis(e, order, axis=1), axis=1)
    first = np.argmax(cum >= 0.5, axis=1)
    return np.take_along_axis(dist, order, axis=1)[np.arange(len(e)), first]


def unit(fields):
    """Each row scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(fields, axis=1, keepdims=True)
    return fields / np.maximum(norms, 1e-12)


def cosine_distance(fields):
    """Weight-space distance `1 - cos(w_i, w_j)` in [0, 2] (signed: a ReLU unit and its negative
    detect different things)."""
    u = unit(fields)
    return np.clip(1.0 - u @ u.T, 0.0, 2.0)


def response_distance(fields, images):
    """Data-dependent distance `1 - Pearson(w_i . x, w_j . x)` over `images` `(N, n_pixels)`:
    how differently two units' pre-activations move across the data (a bias does not change it)."""
    r = np.corrcoef(np.asarray(images, dtype=np.float64) @ np.asarray(fields, dtype=np.float64).T,
                    rowvar=False)
    return np.clip(1.0 - np.nan_to_num(r), 0.0, 2.0)


def sliced_wasserstein(fields, coords, n_projections=64):
    """Pairwise sliced Wasserstein-1 distance, in pixels, between the fields' `|w|` maps, each
    normalized to a probability distribution over the pixel coordinates.

    On every direction `theta_k = pi * k / n_projections` the maps are projected onto a line and
    the exact 1-D W1 (the area between the two CDFs) is taken; the distance is the mean over the
    directions (Rabin et al. 2011; Bonneel et al. 2015). A map shifted by a vector `v` is
    `|v| * mean_k |cos theta_k|` (about `2|v|/pi`) away from itself.
    """
    p = np.abs(np.asarray(fields, dtype=np.float64))
    p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-300)
    out = np.zeros((len(p), len(p)))
    for k in range(n_projections):
        theta = np.pi * k / n_projections
        t = coords @ np.array([np.cos(theta), np.sin(theta)])
        order = np.argsort(t, kind="stable")
        gaps = np.diff(t[order])                         # (m - 1,)
        cdf = np.cumsum(p[:, order], axis=1)[:, :-1]     # (n, m - 1)
        for i in range(len(p)):                          # one row at a time keeps memory at n * m
            out[i] += np.abs(cdf[i][None, :] - cdf) @ gaps
    return out / n_projections


def _ranks(x):
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x))
    sorted_x = x[order]  # ties get their average rank
    _, start, counts = np.unique(sorted_x, return_index=True, return_counts=True)
    for s, c in zip(start[counts > 1], counts[counts > 1]):
        ranks[order[s:s + c]] = s + (c - 1) / 2
    return ranks


def spearman(a, b):
    """Spearman rank correlation between the upper triangles of two distance matrices."""
    iu = np.triu_indices(len(a), k=1)
    ra, rb = _ranks(np.asarray(a)[iu]), _ranks(np.asarray(b)[iu])
    return float(np.corrcoef(ra, rb)[0, 1])


def classical_mds(distances, dims=2):
    """`(n, dims)` classical (Torgerson) MDS: the top eigenvectors of `-1/2 J D**2 J`, scaled by
    the square roots of their eigenvalues; exact (up to rotation/reflection) for Euclidean D."""
    d2 = np.asarray(distances, dtype=np.float64) ** 2
    n = len(d2)
    j = np.eye(n) - 1.0 / n
    vals, vecs = np.linalg.eigh(-0.5 * j @ d2 @ j)
    top = np.argsort(vals)[::-1][:dims]
    return vecs[:, top] * np.sqrt(np.maximum(vals[top], 0.0))


def knn_edges(distances, k):
    """Undirected k-nearest-neighbour graph: sorted `(i, j)` pairs, `i < j`, where j is among
    i's k nearest (or i among j's)."""
    d = np.array(distances, dtype=np.float64)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
    return sorted({(int(min(i, j)), int(max(i, j))) for i in range(len(d)) for j in nearest[i]})


def neighbour_spread(edges, centroids):
    """Mean spatial distance between the energy centroids of graph neighbours, divided by the
    mean over all pairs: below 1, fields close in the graph also sit close in the image (the
    topographic order of a Kohonen map); about 1, no spatial order."""
    c = np.asarray(centroids, dtype=np.float64)
    all_d = np.sqrt(((c[:, None] - c[None]) ** 2).sum(axis=2))[np.triu_indices(len(c), k=1)]
    i, j = np.asarray(edges).T
    return float(np.linalg.norm(c[i] - c[j], axis=1).mean() / all_d.mean())


def best_match(atoms, fields):
    """Mean over `atoms` of the largest `|cos|` with any of `fields` (1: every atom is a field)."""
    return float(np.clip(np.abs(unit(atoms) @ unit(fields).T), 0.0, 1.0).max(axis=1).mean())


def sparse_codes(x, dictionary, lam, steps=100, codes=None):
    """FISTA (Beck & Teboulle 2009) for `min_a 1/2 |x - a D^T|^2 + lam |a|_1`, row by row.

    Args:
        x: `(N, m)` signals.
        dictionary: `(m, k)` atoms as columns.
        lam: L1 weight.
        steps: FISTA iterations.
        codes: `(N, k)` warm start, or None for zeros.
    """
    gram, xd = dictionary.T @ dictionary, x @ dictionary
    step = 1.0 / max(np.linalg.eigvalsh(gram)[-1], 1e-12)
    a = np.zeros((len(x), dictionary.shape[1])) if codes is None else codes.copy()
    y, t = a.copy(), 1.0
    for _ in range(steps):
        z = y - step * (y @ gram - xd)
        a_new = np.sign(z) * np.maximum(np.abs(z) - step * lam, 0.0)
        t_new = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
        y = a_new + (t - 1.0) / t_new * (a_new - a)
        a, t = a_new, t_new
    return a


def objective(x, dictionary, codes, lam):
    """Per signal: `1/2 |x - a D^T|^2 + lam |a|_1`, averaged over the rows."""
    return float((0.5 * ((x - codes @ dictionary.T) ** 2).sum() + lam * np.abs(codes).sum()) / len(x))


def learn_dictionary(x, n_atoms, lam, iterations=30, code_steps=50, seed=0):
    """Sparse coding (Olshausen & Field 1996): alternately the codes by FISTA and the atoms by
    one sweep of block-coordinate descent under `|d_j| <= 1` (Mairal et al. 2010, Alg. 2), from
    `n_atoms` random signals as the start. An atom no code uses is restarted on a random signal.

    Returns:
        `(dictionary (m, n_atoms) with unit-norm columns, objective after each iteration)`.
    """
    rng = np.random.default_rng(seed)
    d = unit(x[rng.choice(len(x), n_atoms, replace=False)]).T.copy()
    codes, history = None, []
    for _ in range(iterations):
        codes = sparse_codes(x, d, lam, code_steps, codes)
        history.append(objective(x, d, codes, lam))
        b, c = x.T @ codes, codes.T @ codes
        for j in range(n_atoms):
            if c[j, j] < 1e-10:
                d[:, j] = unit(x[rng.integers(len(x))][None])[0]
                continue
            u = d[:, j] + (b[:, j] - d @ c[:, j]) / c[j, j]
            d[:, j] = u / max(1.0, np.linalg.norm(u))
    d = unit(d.T).T
    history.append(objective(x, d, sparse_codes(x, d, lam, code_steps, codes), lam))
    return d, history
