"""A train step folded over a chunk of batches with `jax.lax.scan` (fused training on JAX)."""

from keras_seminar.backend.dispatch import name, supports_scan

__all__ = ["scanned_train_step"]


def scanned_train_step(model):
    """A train step that runs a whole chunk of K batches, shaped `(K, batch, ...)`, in one call.

    JAX only: Keras's own stateless `model.train_step(state, batch)` folded over the chunk with
    `jax.lax.scan`, so `fit` dispatches one compiled program per chunk instead of one per batch
    (Keras's JAX `steps_per_execution` still loops over batches in Python). The logs are those
    after the chunk's last batch, i.e. the running epoch means Keras itself would report.
    (TensorFlow needs none: its `steps_per_execution` already compiles a loop over batches.)
    """
    if not supports_scan():
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
