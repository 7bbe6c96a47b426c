"""Gradients `keras.ops` cannot express (with respect to an input, or to chosen variables), and
functions compiled once and run at each call's variable values."""

import keras

from keras_seminar.backend.dispatch import name

__all__ = ["compile_function", "value_and_input_grad", "value_and_variable_grads"]


def value_and_input_grad(loss_fn, x):
    """Returns `(loss_fn(x), d loss_fn(x) / d x)` for a scalar-valued `loss_fn`.

    Args:
        loss_fn: a function of one tensor, written with `keras.ops`, returning a scalar.
        x: the input tensor (or array) to differentiate at.
    """
    backend = name()
    x = keras.ops.convert_to_tensor(x)
    loss_fn = _scalar(loss_fn)
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


def compile_function(fn, variables):
    """`fn` compiled once, run at the variables' values of each call.

    For code run many times with changing weights (each PGD batch, each adversarial-training
    step): `fn(*tensors)` is written with `keras.ops` and may take input gradients with
    `value_and_input_grad` inside. JAX jits it with the variables' values as arguments, swapped
    in through a `StatelessScope` (so weights changed after compiling are seen; an uncompiled
    `jax.value_and_grad` retraces the model on every call, ~100x slower on a CPU), TensorFlow
    wraps it in a `tf.function` (variables read by reference), torch runs it eagerly. Arguments
    are converted to tensors first, so new scalar values do not retrace.

    Args:
        fn: a function of tensors, returning a tensor or a structure of tensors.
        variables: every Keras variable `fn` reads (e.g. `model.variables`).
    """
    backend, variables = name(), list(variables)
    if backend == "jax":
        import jax

        def stateless(values, *args):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return fn(*args)

        compiled = jax.jit(stateless)
        return lambda *args: compiled([v.value for v in variables], *map(keras.ops.convert_to_tensor, args))
    if backend == "tensorflow":
        import tensorflow as tf

        compiled = tf.function(fn, reduce_retracing=True)
        return lambda *args: compiled(*map(keras.ops.convert_to_tensor, args))
    return lambda *args: fn(*map(keras.ops.convert_to_tensor, args))


def _scalar(loss_fn):
    """`loss_fn`, refusing a non-scalar value with one clear error on every backend (TensorFlow
    would silently sum it, JAX and torch raise their own errors)."""

    def checked(*args):
        value = loss_fn(*args)
        if tuple(keras.ops.shape(value)) != ():
            raise ValueError("Expected loss_fn to return a scalar. Received: a value of shape "
                             f"{tuple(keras.ops.shape(value))}")
        return value

    return checked


def value_and_variable_grads(loss_fn, variables):
    """Returns `(loss_fn(), [d loss / d v for v in variables])` for Keras variables.

    `loss_fn` takes no argument and reads the variables through the model. On JAX the
    variables' values are swapped in through a `StatelessScope`, as Keras's own JAX trainer does.
    """
    backend = name()
    variables = list(variables)
    loss_fn = _scalar(loss_fn)
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
