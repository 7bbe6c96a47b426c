"""The one backend dispatch: input and variable gradients against hand-computed values."""

import keras
import numpy as np
import pytest

from keras_seminar import backend


def test_name_is_the_active_backend():
    assert backend.name() == keras.backend.backend()
    assert backend.device_description().startswith(("cpu", "gpu"))


def test_input_gradient_of_a_quadratic():
    x = np.array([[1.0, -2.0], [0.5, 3.0]], dtype="float32")
    value, grad = backend.value_and_input_grad(lambda t: keras.ops.sum(t ** 2) / 2, x)
    assert float(keras.ops.convert_to_numpy(value)) == pytest.approx(0.5 * np.sum(x ** 2))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(grad), x, rtol=1e-6)


def test_variable_gradients_of_a_linear_layer_with_mse():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)).astype("float32"), rng.normal(size=(5, 2)).astype("float32")
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    w, b = (keras.ops.convert_to_numpy(v) for v in (layer.kernel, layer.bias))

    y_t = keras.ops.convert_to_tensor(y)  # torch cannot subtract a NumPy array from a grad tensor

    def loss_fn():
        return keras.ops.mean((layer(x) - y_t) ** 2)

    value, (gw, gb) = backend.value_and_variable_grads(loss_fn, [layer.kernel, layer.bias])
    residual = x @ w + b - y  # d mean(r^2) / d W = 2 x^T r / r.size
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gw), 2 * x.T @ residual / residual.size, rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gb), 2 * residual.sum(0) / residual.size, rtol=1e-5)
    assert float(keras.ops.convert_to_numpy(value)) == pytest.approx(np.mean(residual ** 2), rel=1e-5)
    # The variables themselves are untouched.
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.kernel), w)


def test_has_accelerator_matches_the_device():
    from keras_seminar import backend

    assert backend.has_accelerator() == (not backend.device_description().startswith("cpu"))


def test_a_non_scalar_loss_is_a_clear_error():
    x = np.ones((2, 3), "float32")
    with pytest.raises(ValueError, match=r"scalar. Received: a value of shape \(2, 3\)"):
        backend.value_and_input_grad(lambda t: t * 2, x)
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        backend.value_and_variable_grads(lambda: layer(x), [layer.kernel])


def _mlp(seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3)])


def test_compiled_input_gradient_matches_the_eager_one_and_sees_new_weights():
    model, other = _mlp(0), _mlp(1)
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    y = keras.ops.convert_to_tensor(np.array([0, 1, 2, 0, 1, 2], "int32"))

    def loss(t, labels):
        log_p = keras.ops.log_softmax(model(t), axis=-1)
        return -keras.ops.sum(keras.ops.take_along_axis(log_p, keras.ops.expand_dims(labels, -1), axis=-1))

    grad = backend.compile_function(
        lambda t, labels: backend.value_and_input_grad(lambda u: loss(u, labels), t)[1], model.variables)

    def eager():
        return keras.ops.convert_to_numpy(backend.value_and_input_grad(lambda t: loss(t, y), x)[1])

    before = eager()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(grad(x, y)), before, rtol=1e-4, atol=1e-6)
    # A compiled function that froze the weights it was traced with would keep returning `before`.
    model.set_weights(other.get_weights())
    after = eager()
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(keras.ops.convert_to_numpy(grad(x, y)), after, rtol=1e-4, atol=1e-6)
    # Another batch size is another trace of the same function.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(grad(x[:5], y[:5])), after[:5], rtol=1e-4, atol=1e-6)


def test_compiled_function_takes_new_scalars_and_refuses_a_non_scalar_loss():
    x = np.ones((2, 3), "float32")
    scaled = backend.compile_function(lambda t, k: t * k, [])
    for k in (2.0, 3.0):  # a new value is a new argument, not a constant frozen at the first trace
        np.testing.assert_allclose(keras.ops.convert_to_numpy(scaled(x, np.float32(k))), k * x)
    with pytest.raises(ValueError, match=r"scalar. Received: a value of shape \(2, 3\)"):
        backend.compile_function(lambda t: backend.value_and_input_grad(lambda u: u * 2, t)[1], [])(x)
