"""The one place that knows about TensorFlow, JAX and PyTorch.

Library code elsewhere uses `keras.ops` only. What `keras.ops` cannot express — taking a
gradient with respect to an input or to chosen variables — is dispatched here, with the
backend module imported lazily so importing keras_seminar never pulls in a framework that
the active backend does not use.
"""

import keras

SUPPORTED = ("tensorflow", "jax", "torch")


def name():
    """The active Keras backend: "tensorflow", "jax" or "torch"."""
    backend = keras.backend.backend()
    if backend not in SUPPORTED:
        raise RuntimeError(f"Unsupported Keras backend {backend!r}. Expected one of {SUPPORTED}.")
    return backend


def value_and_input_grad(loss_fn, x):
    """Returns `(loss_fn(x), d loss_fn(x) / d x)` for a scalar-valued `loss_fn`.

    Args:
        loss_fn: a function of one tensor, written with `keras.ops`, returning a scalar.
        x: the input tensor (or array) to differentiate at.
    """
    backend = name()
    x = keras.ops.convert_to_tensor(x)
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            value = loss_fn(x)
        return value, tape.gradient(value, x)
    if backend == "jax":
        import jax

        return jax.value_and_grad(loss_fn)(x)
    import torch

    x = x.detach().clone().requires_grad_(True)
    value = loss_fn(x)
    (grad,) = torch.autograd.grad(value, x)
    return value.detach(), grad


def value_and_variable_grads(loss_fn, variables):
    """Returns `(loss_fn(), [d loss / d v for v in variables])` for Keras variables.

    `loss_fn` takes no argument and reads the variables through the model. On JAX the
    variables' values are swapped in through a `StatelessScope`, as Keras's own JAX trainer does.
    """
    backend = name()
    variables = list(variables)
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = loss_fn()
        return value, tape.gradient(value, [v.value for v in variables])
    if backend == "jax":
        import jax

        def stateless(values):
            mapping = list(zip(variables, values))
            with keras.StatelessScope(state_mapping=mapping):
                return loss_fn()

        return jax.value_and_grad(stateless)([v.value for v in variables])
    import torch

    value = loss_fn()
    grads = torch.autograd.grad(value, [v.value for v in variables], allow_unused=True)
    return value.detach(), [g if g is not None else torch.zeros_like(v.value) for g, v in
                            zip(grads, variables)]
