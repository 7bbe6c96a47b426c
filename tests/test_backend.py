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


def _framework_uses(root):
    """`path: name` of every import of, or comparison with the name of, TensorFlow, JAX or
    torch in the package outside `keras_seminar/backend/`."""
    import ast
    import os

    frameworks = {"tensorflow", "jax", "torch"}
    found = []
    for dirpath, _, files in os.walk(os.path.join(root, "keras_seminar")):
        if os.path.join("keras_seminar", "backend") in dirpath:
            continue
        for name in (f for f in files if f.endswith(".py")):
            path = os.path.join(dirpath, name)
            with open(path) as f:
                tree = ast.parse(f.read(), path)
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] if isinstance(node, ast.ImportFrom) else
                         [c.value for c in [node.left, *node.comparators]
                          if isinstance(c, ast.Constant)] if isinstance(node, ast.Compare) else [])
                found += [f"{os.path.relpath(path, root)}: {n}" for n in names
                          if isinstance(n, str) and n.split(".")[0] in frameworks]
    return found


def test_only_the_backend_package_knows_the_frameworks():
    """No module outside keras_seminar/backend/ imports TensorFlow, JAX or torch, or branches
    on the backend's name (tensorflow_datasets, an optional data source, is not TensorFlow)."""
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert _framework_uses(root) == []
