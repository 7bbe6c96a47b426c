import re

import keras
import numpy as np
import pytest

from keras_seminar.constraints import NonNeg, NonNegMaxNorm, apply_constraint, nonneg_output_layer
from keras_seminar.layers import DropConnectDense, Maxout, MLPConv


def _np(x):
    return keras.ops.convert_to_numpy(x)


def test_nonneg_is_the_keras_one():
    assert NonNeg is keras.constraints.NonNeg


@pytest.mark.parametrize("axis", [0, [0, 1, 2]])
def test_nonneg_max_norm_matches_numpy(axis, rng):
    w = rng.normal(scale=2.0, size=(3, 3, 2, 4) if axis != 0 else (5, 3)).astype("float32")
    out = _np(NonNegMaxNorm(1.5, axis=axis)(w))
    pos = np.maximum(w, 0)
    norms = np.sqrt(np.sum(pos**2, axis=tuple(np.atleast_1d(axis)), keepdims=True))
    expected = pos * np.clip(norms, 0, 1.5) / (keras.config.epsilon() + norms)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-7)
    assert out.min() >= 0
    assert np.all(np.linalg.norm(out.reshape(-1, out.shape[-1]), axis=0) <= 1.5 + 1e-5)


def test_nonneg_max_norm_edge_cases():
    c = NonNegMaxNorm(2.0)
    np.testing.assert_array_equal(_np(c(np.zeros((3, 2), "float32"))), 0.0)
    np.testing.assert_array_equal(_np(c(np.full((3, 2), -1e6, "float32"))), 0.0)
    tiny = _np(c(np.full((3, 2), 1e-30, "float32")))
    assert np.all(np.isfinite(tiny)) and np.all(tiny >= 0)
    huge = _np(c(np.full((4, 2), 1e6, "float32")))
    np.testing.assert_allclose(huge, 1.0, rtol=1e-5)  # norm 2 spread over 4 equal weights


def test_nonneg_max_norm_config_roundtrip():
    c = NonNegMaxNorm(3.0, axis=[0, 1])
    clone = keras.constraints.deserialize(keras.constraints.serialize(c))
    assert type(clone) is NonNegMaxNorm and clone.get_config() == {"max_value": 3.0, "axis": [0, 1]}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_value": 0}, "max_value=0"),
        ({"max_value": -1.0}, "max_value=-1.0"),
        ({"max_value": "2"}, "max_value=2"),
        ({"axis": "rows"}, "axis=rows"),
        ({"axis": []}, r"axis=\[\]"),
    ],
)
def test_nonneg_max_norm_bad_args(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NonNegMaxNorm(**kwargs)


def _mlp():
    inputs = keras.Input((4,))
    x = keras.layers.Dense(8, activation="relu", name="hidden_1")(inputs)
    x = keras.layers.Dense(8, activation="relu", name="hidden_2")(x)
    x = keras.layers.BatchNormalization(name="bn")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="predictions")(x))


@pytest.mark.parametrize(
    "layers, expected",
    [
        ("hidden_1", ["hidden_1"]),
        ("hidden_*", ["hidden_1", "hidden_2"]),
        (keras.layers.Dense, ["hidden_1", "hidden_2", "predictions"]),
        (lambda layer: layer.name.endswith("2"), ["hidden_2"]),
        (["predictions", "hidden_1"], ["hidden_1", "predictions"]),
        (None, ["hidden_1", "hidden_2", "predictions"]),  # bn has no kernel
    ],
)
def test_apply_constraint_selectors(layers, expected):
    model = _mlp()
    assert apply_constraint(model, "non_neg", layers=layers) == expected
    for layer in model.layers:
        if layer.name in expected:
            assert isinstance(layer.kernel_constraint, keras.constraints.NonNeg)
            assert layer.kernel.constraint is layer.kernel_constraint
            assert _np(layer.kernel).min() >= 0  # projected right away
        elif hasattr(layer, "kernel_constraint"):
            assert layer.kernel_constraint is None


def test_apply_constraint_is_used_by_fit_and_saved(rng, tmp_path):
    model = _mlp()
    apply_constraint(model, NonNegMaxNorm(0.5), layers="hidden_2")
    apply_constraint(model, "non_neg", layers="predictions", attribute="bias")
    model.compile(keras.optimizers.SGD(0.5), "mse")
    x = rng.normal(size=(16, 4)).astype("float32")
    model.fit(x, -np.ones((16, 3), "float32"), batch_size=4, epochs=2, verbose=0)
    kernel = _np(model.get_layer("hidden_2").kernel)
    assert kernel.min() >= 0 and np.linalg.norm(kernel, axis=0).max() <= 0.5 + 1e-5
    assert _np(model.get_layer("predictions").bias).min() >= 0
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(loaded.get_layer("hidden_2").kernel.constraint, NonNegMaxNorm)
    assert isinstance(loaded.get_layer("predictions").bias_constraint, keras.constraints.NonNeg)


def test_apply_constraint_unbuilt_layer_and_nested_model():
    inner = keras.Sequential([keras.layers.Dense(2, name="inner_dense")], name="inner")
    layer = keras.layers.Dense(2, name="unbuilt")
    outer = keras.Sequential([inner])
    outer.build((None, 3))
    assert apply_constraint(outer, "non_neg", layers="inner_dense") == ["inner_dense"]
    assert apply_constraint(keras.Sequential([layer]), "non_neg") == ["unbuilt"]
    layer.build((None, 3))  # the attribute is picked up when the variable is created
    assert isinstance(layer.kernel.constraint, keras.constraints.NonNeg)


def test_apply_constraint_errors():
    model = _mlp()
    with pytest.raises(ValueError, match="No layer matched layers='output'.*hidden_1"):
        apply_constraint(model, "non_neg", layers="output")
    with pytest.raises(ValueError, match="No layer matched.*gamma"):
        apply_constraint(model, "non_neg", layers=keras.layers.Dense, attribute="gamma")
    with pytest.raises(ValueError, match="layers=3"):
        apply_constraint(model, "non_neg", layers=3)
    with pytest.raises(ValueError, match="constraint=None"):
        apply_constraint(model, None)
    with pytest.raises(ValueError, match="attribute=5"):
        apply_constraint(model, "nonneg", attribute=5)


def test_nonneg_output_layer(rng):
    model = _mlp()
    assert nonneg_output_layer(model) == "predictions"
    assert model.get_layer("hidden_2").kernel.constraint is None
    model.compile(keras.optimizers.SGD(0.5), "mse")
    x = rng.normal(size=(8, 4)).astype("float32")
    model.fit(x, -np.ones((8, 3), "float32"), batch_size=4, epochs=1, verbose=0)
    assert _np(model.get_layer("predictions").kernel).min() >= 0
    inputs = keras.Input((2,))
    with pytest.raises(ValueError, match="Dense"):
        nonneg_output_layer(keras.Model(inputs, keras.layers.ReLU()(inputs)))


def test_get_resolves_the_nonneg_alias_and_keras_names():
    from keras_seminar import constraints

    assert isinstance(constraints.get("nonneg"), keras.constraints.NonNeg)
    assert isinstance(constraints.get("non_neg"), keras.constraints.NonNeg)
    assert isinstance(constraints.get("max_norm"), keras.constraints.MaxNorm)
    assert constraints.get(None) is None
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(inputs))
    assert constraints.apply_constraint(model, "nonneg", layers="out") == ["out"]
    assert float(keras.ops.min(model.get_layer("out").kernel)) >= 0.0


@pytest.mark.parametrize(
    "alias, expected",
    [
        ("nonneg", NonNeg()),
        ("non_neg", NonNeg()),
        ("nonneg_max_norm", NonNegMaxNorm(2.0, axis=0)),
        ("non_neg_max_norm", NonNegMaxNorm(2.0, axis=0)),
        ("NonNegMaxNorm", NonNegMaxNorm(2.0, axis=0)),
    ],
)
def test_alias_works_on_any_keras_layer_and_the_packages_own(alias, expected):
    from keras_seminar import constraints

    layers = [
        keras.layers.Dense(3, kernel_constraint=alias, bias_constraint=alias),
        keras.layers.Conv2D(3, 2, kernel_constraint=alias),
        Maxout(3, 2, kernel_constraint=alias),
        MLPConv(3, 2, kernel_constraint=alias),
        DropConnectDense(3, kernel_constraint=alias),
    ]
    for layer in layers:
        c = layer.kernel_constraint
        assert type(c) is type(expected) and c.get_config() == expected.get_config()
    for c in (keras.constraints.get(alias), constraints.get(alias)):
        assert type(c) is type(expected) and c.get_config() == expected.get_config()
    dense = keras.layers.Dense(3, kernel_initializer="ones", kernel_constraint=alias)
    dense.build((None, 2))
    dense.kernel.assign(-2.0 * np.ones((2, 3), "float32"))
    assert _np(dense.kernel.constraint(dense.kernel)).max() <= 0.0 + 1e-7  # clipped to 0


@pytest.mark.parametrize("axis", [7, -3, [0, 2], [0, 0]])
def test_nonneg_max_norm_axis_beyond_the_weights_rank_is_a_clear_error(axis):
    with pytest.raises(ValueError, match=r"axes in \[-2, 1\] for a weight of shape \(3, 2\)"):
        NonNegMaxNorm(axis=axis)(np.ones((3, 2), "float32"))
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")])
    with pytest.raises(ValueError, match=re.escape(f"axis={axis}")):
        apply_constraint(model, NonNegMaxNorm(axis=axis), layers="d")
