"""The one place that knows about TensorFlow, JAX and PyTorch.

Library code elsewhere uses `keras.ops` only. What `keras.ops` cannot express (a gradient with
respect to an input or chosen variables, a per-epoch reshuffle on TensorFlow) is dispatched
here, the framework imported lazily so keras_seminar never pulls in one the backend does not use.
"""

import os

import keras
import numpy as np

from keras_seminar._validators import check_int

SUPPORTED = ("tensorflow", "jax", "torch")


def name():
    """The active Keras backend: "tensorflow", "jax" or "torch"."""
    backend = keras.backend.backend()
    if backend not in SUPPORTED:
        raise RuntimeError(f"Unsupported Keras backend {backend!r}. Expected one of {SUPPORTED}.")
    return backend


def device_description():
    """The accelerator the backend computes on, e.g. "gpu:NVIDIA H100 80GB HBM3 x1" or "cpu (2 cores)"."""
    backend = name()
    if backend == "jax":
        import jax

        d = jax.devices()[0]
        if d.platform != "cpu":
            return f"{d.platform}:{getattr(d, 'device_kind', d.platform)} x{len(jax.devices())}"
    elif backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            return f"gpu x{len(gpus)}"
    elif backend == "torch":
        import torch

        if torch.cuda.is_available():
            return f"gpu:{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    return f"cpu ({os.cpu_count()} cores)"


def on_cpu():
    """True when the backend computes on the host CPU (no GPU/TPU in use)."""
    return device_description().startswith("cpu")


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


def use_virtual_cpu_devices(count):
    """Splits the host CPU into `count` devices, to test data parallelism without GPUs.

    Must run before the backend has created any device (JAX reads `XLA_FLAGS` once, at
    start-up; TensorFlow fixes logical devices at the first op).
    """
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError(f"Expected count to be a positive integer. Received: count={count!r}")
    backend = name()
    if backend == "jax":
        import jax

        found = len(jax.devices("cpu"))
        if found != count:
            raise RuntimeError(
                f"JAX already started with {found} CPU device(s); set "
                f"XLA_FLAGS=--xla_force_host_platform_device_count={count} before Python starts.")
        return
    if backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
        return
    raise ValueError(f"Virtual CPU devices are not supported on the {backend} backend.")


def data_parallel_scope(num_devices=None):
    """Returns `(scope, replicas)`: build, compile and fit inside `scope` to train data-parallel.

    Uses the engines Keras already has: `keras.distribution.DataParallel` on JAX and
    `tf.distribute.MirroredStrategy` on TensorFlow; GPUs when present, else CPU devices.
    """
    if num_devices is not None and (not isinstance(num_devices, int) or num_devices < 1):
        raise ValueError(f"Expected num_devices >= 1. Received: num_devices={num_devices!r}")
    backend = name()
    if backend == "jax":
        devices = keras.distribution.list_devices()[:num_devices]
        distribution = keras.distribution.DataParallel(devices=devices)
        return distribution.scope(), len(devices)
    if backend == "tensorflow":
        import tensorflow as tf

        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        strategy = tf.distribute.MirroredStrategy([d.name for d in devices][:num_devices])
        return strategy.scope(), strategy.num_replicas_in_sync
    raise ValueError(f"--distribute is not supported on the {backend} backend (use jax or tensorflow).")


def enable_compilation_cache(directory):
    """Keeps compiled XLA programs on disk between runs (JAX); a no-op elsewhere."""
    if name() == "jax":
        import jax

        os.makedirs(directory, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", directory)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


def fit_reshuffled(model, x, y, batch_size, seed=None, **fit_kwargs):
    """`model.fit(x, y, batch_size=..., **fit_kwargs)` (not shuffle) with the training set in a
    new order every epoch, drawn from `seed` (a non-negative int; None: NumPy's global generator).

    JAX, PyTorch: Keras's own shuffle. TensorFlow: Keras shuffles in a `tf.data` map that, once
    a global seed is set, replays one permutation every epoch (tensorflow/tensorflow#26179); here
    epoch e takes the NumPy permutation of `(seed, e)`, host-side (no strategy rewrite re-seeds
    it; a run resumed at epoch e sees an unbroken run's order), gathered as Keras's adapter does.
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seed = check_int("seed", seed, minimum=0, allow_none=True)
    sizes = {len(a) for a in keras.tree.flatten((x, y))}
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError(f"Expected x and y with the same, non-zero number of examples. Received: {sorted(sizes)}")
    if "shuffle" in fit_kwargs:  # model.fit(shuffle=False) keeps the order
        raise ValueError("fit_reshuffled always reshuffles; call model.fit for shuffle=False.")
    if name() != "tensorflow":
        return model.fit(x, y, batch_size=batch_size, shuffle=True, **fit_kwargs)
    import tensorflow as tf
    n, epoch = sizes.pop(), [0]
    seed = int(np.random.randint(2**31 - 1)) if seed is None else seed

    def index_batches():  # runs when an epoch's iterator starts, after on_epoch_begin
        order = np.random.default_rng([seed, epoch[0]]).permutation(n)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]

    indices = tf.data.Dataset.from_generator(index_batches, output_signature=tf.TensorSpec([None], tf.int64))
    indices = indices.apply(tf.data.experimental.assert_cardinality(-(-n // batch_size)))
    data = tf.data.Dataset.from_tensors(keras.tree.map_structure(tf.convert_to_tensor, (x, y))).repeat()
    batches = tf.data.Dataset.zip((indices, data)).map(
        lambda i, d: keras.tree.map_structure(lambda a: tf.gather(a, i), d), num_parallel_calls=tf.data.AUTOTUNE)
    track = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epoch.__setitem__(0, e))
    fit_kwargs["callbacks"] = [track, *(fit_kwargs.get("callbacks") or [])]
    return model.fit(batches.prefetch(tf.data.AUTOTUNE), shuffle=False, **fit_kwargs)


def has_accelerator():
    """Whether the backend computes on a GPU/TPU rather than the host CPU."""
    backend = name()
    if backend == "jax":
        import jax

        return jax.default_backend() != "cpu"
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU"))
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def scanned_train_step(model):
    """A train step that runs a whole chunk of K batches, shaped `(K, batch, ...)`, in one call.

    JAX only: Keras's own stateless `model.train_step(state, batch)` folded over the chunk with
    `jax.lax.scan`, so `fit` dispatches one compiled program per chunk instead of one per batch
    (Keras's JAX `steps_per_execution` still loops over batches in Python). The logs are those
    after the chunk's last batch, i.e. the running epoch means Keras itself would report.
    (TensorFlow needs none: its `steps_per_execution` already compiles a loop over batches.)
    """
    if name() != "jax":
        raise ValueError(f"A scanned train step needs the JAX backend, not {name()}.")
    import jax

    step = model.train_step

    def chunk_step(state, data):
        def body(state, batch):
            logs, state = step(state, batch)
            return state, logs

        state, logs = jax.lax.scan(body, state, data)
        return jax.tree_util.tree_map(lambda v: v[-1], logs), state

    return chunk_step
