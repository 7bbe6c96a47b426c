"""`keras_seminar.regularizers`: each penalty's value and gradient against NumPy, edge cases
(zeros, tiny and huge weights, half precision), serialization and argument checks. The string
names and `get` are in test_regularizer_aliases.py."""

import keras
import numpy as np
import pytest

from keras_seminar import regularizers as R
from tests._grad import value_and_grad

A = 1e-2
# zero, tiny, inside the smoothed region, its edge, ordinary, and huge weights
EDGE_WEIGHTS = np.array(
    [0.0, 1e-30, -1e-30, 1e-3, -4e-3, A, -A, 0.3, -2.0, 1e6, -1e6], dtype="float32"
)


def _f(w, a):
    w = w.astype("float64")
    small = np.abs(w) < a
    value = np.where(small, -(w**4) / (8 * a**3) + 3 * w**2 / (4 * a) + 3 * a / 8, np.abs(w))
    slope = np.where(small, -(w**3) / (2 * a**3) + 3 * w / (2 * a), np.sign(w))
    return value, slope


def _np_lq(w, q, factor, a):
    f, df = _f(w, a)
    return factor * np.sum(f**q), factor * q * f ** (q - 1) * df


def _check(reg, w, expected_value, expected_grad, rtol=1e-5):
    value, grad = value_and_grad(lambda t: reg(t), w)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(value, expected_value, rtol=rtol)
    np.testing.assert_allclose(grad, expected_grad, rtol=rtol, atol=1e-6)


@pytest.mark.parametrize("q", [0.5, 0.25, 0.7, 1.0])
def test_lq_value_and_gradient_vs_numpy_at_edge_cases(q):
    reg = R.Lq(q=q, factor=0.1, a=A)
    _check(reg, EDGE_WEIGHTS, *_np_lq(EDGE_WEIGHTS, q, 0.1, A))


def test_lq_equals_abs_power_outside_smoothing_region(rng):
    w = rng.uniform(A, 3.0, size=(4, 5)) * rng.choice([-1, 1], size=(4, 5))
    w = w.astype("float32")
    value, grad = value_and_grad(lambda t: R.Lq(q=0.3, factor=2.0)(t), w)
    np.testing.assert_allclose(value, 2.0 * np.sum(np.abs(w) ** 0.3), rtol=1e-5)
    np.testing.assert_allclose(grad, 2.0 * 0.3 * np.abs(w) ** -0.7 * np.sign(w), rtol=1e-4)


def test_lq_is_smooth_at_a_and_finite_at_zero():
    f, df = _f(np.array([A * (1 - 1e-7), A, 0.0]), A)
    np.testing.assert_allclose(f[:2], A, rtol=1e-6)
    np.testing.assert_allclose(df[:2], 1.0, rtol=1e-5)
    _, grad = value_and_grad(lambda t: R.L12(1.0)(t), np.zeros((3, 3), "float32"))
    np.testing.assert_array_equal(grad, 0.0)  # f'(0) = 0: no push, but no NaN either


def test_l12_is_lq_half_and_works_in_half_precision():
    w = EDGE_WEIGHTS[:-2]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(R.L12(0.1)(w)), keras.ops.convert_to_numpy(R.Lq(0.5, 0.1)(w))
    )
    for dtype in ("float16", "bfloat16"):
        value = R.L12(1.0)(keras.ops.cast(w, dtype))
        assert keras.backend.standardize_dtype(value.dtype) == dtype
        value = float(keras.ops.convert_to_numpy(keras.ops.cast(value, "float32")))
        assert np.isfinite(value)
        np.testing.assert_allclose(value, _np_lq(w, 0.5, 1.0, A)[0], rtol=2e-2)


def test_lq_in_a_layer_matches_numpy():
    layer = keras.layers.Dense(3, kernel_regularizer=R.L12(1e-2), kernel_initializer="he_normal")
    layer.build((None, 4))
    expected, _ = _np_lq(np.array(layer.kernel), 0.5, 1e-2, A)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.losses[0]), expected, rtol=1e-5)


@pytest.mark.parametrize("shape", [(4, 3), (3, 3, 2, 5)])
def test_group_lasso_value_and_gradient(shape, rng):
    w = rng.normal(size=shape).astype("float32")
    w[..., 0] = 0.0  # a dead unit: penalty 0, gradient 0, no NaN
    reg = R.GroupLasso(0.5, axis=-1, epsilon=1e-8)
    axes = tuple(range(len(shape) - 1))
    size = np.prod(shape[:-1])
    sq = np.sum(w.astype("float64") ** 2, axis=axes)
    value = 0.5 * np.sqrt(size) * np.sum(np.sqrt(sq + 1e-8) - np.sqrt(1e-8))
    grad = 0.5 * np.sqrt(size) * w / np.sqrt(sq + 1e-8)
    _check(reg, w, value, grad, rtol=1e-4)


def test_group_lasso_other_axis_zeros_and_huge():
    w = np.arange(6, dtype="float32").reshape(2, 3)
    reg = R.GroupLasso(1.0, axis=0, epsilon=1e-12)
    expected = np.sqrt(3) * np.linalg.norm(w, axis=1).sum()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reg(w)), expected, rtol=1e-5)
    for w in (np.zeros((3, 2), "float32"), np.full((3, 2), 1e-30, "float32")):
        value, grad = value_and_grad(lambda t: R.GroupLasso(1.0)(t), w)
        assert abs(value) < 1e-6 and np.all(np.isfinite(grad))
    value, grad = value_and_grad(lambda t: R.GroupLasso(1.0)(t), np.full((3, 2), -1e6, "float32"))
    np.testing.assert_allclose(value, 2 * np.sqrt(3) * np.sqrt(3) * 1e6, rtol=1e-5)
    np.testing.assert_allclose(grad, -1.0, rtol=1e-5)


def test_activity_sparsity_value_and_gradient(rng):
    h = rng.uniform(0.01, 0.99, size=(6, 4)).astype("float32")
    h[:, 0], h[:, 1] = 1e-4, 1.0  # clipped units
    reg = R.ActivitySparsity(l1=0.1, target=0.05, beta=3.0, epsilon=1e-3)
    rho_hat = np.clip(h.astype("float64").mean(0), 1e-3, 1 - 1e-3)
    rho = 0.05
    kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    value = 0.1 * np.abs(h).sum() + 3.0 * kl.sum()
    inside = (h.mean(0) > 1e-3) & (h.mean(0) < 1 - 1e-3)
    dkl = (-rho / rho_hat + (1 - rho) / (1 - rho_hat)) / h.shape[0] * inside
    grad = 0.1 * np.sign(h) + 3.0 * np.broadcast_to(dkl, h.shape)
    _check(reg, h, value, grad, rtol=1e-4)


def test_activity_sparsity_in_a_layer_and_kl_only(rng):
    reg = R.ActivitySparsity(l1=0.0, target=0.2, beta=1.0)
    h = np.full((5, 3), 0.2, "float32")
    assert abs(float(keras.ops.convert_to_numpy(reg(h)))) < 1e-6  # at the target: no penalty
    layer = keras.layers.Dense(3, activation="sigmoid", activity_regularizer=reg)
    layer(rng.normal(size=(5, 2)).astype("float32"))
    assert len(layer.losses) == 1 and np.isfinite(keras.ops.convert_to_numpy(layer.losses[0]))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_activity_sparsity_half_precision_saturated_units(dtype):
    h = keras.ops.cast(np.array([[0.0, 1.0, 0.5]] * 4, "float32"), dtype)
    value = R.ActivitySparsity(l1=0.01, target=0.05, beta=1.0)(h)
    assert keras.backend.standardize_dtype(value.dtype) == dtype
    assert np.isfinite(float(keras.ops.convert_to_numpy(keras.ops.cast(value, "float32"))))


def test_combined_sums_and_serializes(rng):
    w = rng.normal(size=(3, 4)).astype("float32")
    reg = R.Combined([R.L12(1e-2), keras.regularizers.L2(1e-3), "group_lasso"])
    parts = [R.L12(1e-2)(w), keras.regularizers.L2(1e-3)(w), R.GroupLasso()(w)]
    expected = sum(float(keras.ops.convert_to_numpy(p)) for p in parts)
    np.testing.assert_allclose(float(keras.ops.convert_to_numpy(reg(w))), expected, rtol=1e-5)
    clone = keras.regularizers.deserialize(keras.regularizers.serialize(reg))
    assert [type(r) for r in clone.regularizers] == [R.L12, keras.regularizers.L2, R.GroupLasso]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(clone(w)), keras.ops.convert_to_numpy(reg(w)), rtol=1e-6
    )


@pytest.mark.parametrize(
    "reg",
    [
        R.Lq(0.3, 1e-3, a=1e-3),
        R.L12(1e-3),
        R.GroupLasso(1e-3, axis=0),
        R.ActivitySparsity(1e-3, 0.1, 0.5),
        R.Combined([R.L12(1e-3), "l2"]),
    ],
    ids=lambda r: type(r).__name__,
)
def test_config_roundtrip(reg):
    config = keras.regularizers.serialize(reg)
    clone = keras.regularizers.deserialize(config)
    assert type(clone) is type(reg)
    assert keras.regularizers.serialize(clone) == config
    assert R.get(config).get_config() == reg.get_config()


def test_keras_file_roundtrip(rng, tmp_path):
    inputs = keras.Input((4,))
    x = keras.layers.Dense(
        3,
        activation="sigmoid",
        kernel_regularizer=R.Combined([R.L12(1e-2), keras.regularizers.L2(1e-3)]),
        activity_regularizer=R.ActivitySparsity(l1=1e-3, target=0.1, beta=0.1),
        name="hidden",
    )(inputs)
    out = keras.layers.Dense(1, kernel_regularizer=R.GroupLasso(1e-2), name="out")(x)
    model = keras.Model(inputs, out)
    model.compile("sgd", "mse")
    data = rng.normal(size=(8, 4)).astype("float32")
    model.fit(data, np.zeros((8, 1), "float32"), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(loaded.get_layer("hidden").kernel_regularizer, R.Combined)
    assert isinstance(loaded.get_layer("hidden").activity_regularizer, R.ActivitySparsity)
    np.testing.assert_allclose(
        model.evaluate(data, np.zeros((8, 1)), verbose=0),
        loaded.evaluate(data, np.zeros((8, 1)), verbose=0),
        rtol=1e-5,
    )


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: R.Lq(q=1.5), r"Expected q to be a finite number in \(0, 1\]\. Received: q=1\.5"),
        (lambda: R.Lq(q="0.5"), r"Expected q to be a finite number in \(0, 1\]\. Received: q='0\.5'$"),
        (lambda: R.Lq(q=True), "q=True"),
        (lambda: R.Lq(0.5, a="0.01"), r"Expected a to be a finite number in \(0, inf\)\. Received: a='0\.01'"),
        (lambda: R.Lq(q=0), "q=0"),
        (lambda: R.Lq(q=float("nan")), "q=nan"),
        (lambda: R.Lq(0.5, factor=-1.0), "factor=-1.0"),
        (lambda: R.Lq(0.5, a=0.0), "a=0.0"),
        (lambda: R.L12(factor="big"), r"finite number in \[0, inf\)\. Received: factor='big'"),
        (lambda: R.L12(a=-1), "a=-1"),
        (lambda: R.GroupLasso(axis="rows"), "axis=rows"),
        (lambda: R.GroupLasso(factor=float("inf")), "factor=inf"),
        (lambda: R.GroupLasso(epsilon=0), "epsilon=0"),
        (lambda: R.ActivitySparsity(l1=-1), "l1=-1"),
        (lambda: R.ActivitySparsity(target=1.0), r"target in \(0, 1\)\. Received: target=1.0"),
        (lambda: R.ActivitySparsity(beta=-2), "beta=-2"),
        (lambda: R.ActivitySparsity(epsilon=0.5), "epsilon=0.5"),
        (lambda: R.Combined([]), r"regularizers=\[\]"),
        (lambda: R.Combined([None]), r"regularizers=\[None\]"),
        (lambda: R.GroupLasso(axis=2)(np.ones((3, 2), "float32")), "axis=2"),
    ],
)
def test_bad_args(make, match):
    with pytest.raises(ValueError, match=match):
        make()
