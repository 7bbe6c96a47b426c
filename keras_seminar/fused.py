"""`fit_fused`: training with the training set resident on the device (see `training.fused`).

Example:
    >>> history = fit_fused(model, x_train, y_train, batch_size=512, epochs=10,
    ...                     steps_per_call=None, seed=0)  # None: one call per epoch
"""

from keras_seminar.training.engine import fit_model
from keras_seminar.training.fused import DeviceChunks

__all__ = ["DeviceChunks", "fit_fused"]


def fit_fused(model, x, y, batch_size, epochs, steps_per_call=None, seed=None, shuffle=True,
              scan=None, **fit_kwargs):
    """`model.fit` with the data resident on the device and `steps_per_call` steps per call.

    Args:
        model: a compiled Keras model (not compiled with `steps_per_execution` > 1).
        x, y: training images and labels (NumPy).
        batch_size, epochs: as in `fit`.
        steps_per_call: batches per compiled call; None for one call per epoch.
        seed: seeds the per-epoch shuffles.
        shuffle: reshuffle every epoch.
        scan: fold each chunk with `jax.lax.scan` (JAX only). None: on an accelerator only.
        **fit_kwargs: passed to `training.engine.fit_model` (`callbacks`, `validation_data`,
            `verbose`, ...).

    Returns:
        The `History` of `fit`.
    """
    return fit_model(model, x, y, batch_size=batch_size, epochs=epochs, seed=seed,
                     shuffle=shuffle, steps_per_execution=steps_per_call, fused=True, scan=scan,
                     **fit_kwargs)
