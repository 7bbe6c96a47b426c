"""A new order of the training set every epoch on TensorFlow, where Keras's own shuffle replays one.

Keras on TensorFlow shuffles in a `tf.data` map that, once a global seed is set, replays one
permutation every epoch (tensorflow/tensorflow#26179). JAX and PyTorch need nothing: Keras's
own shuffle draws a new order each epoch there.
"""

import keras
import numpy as np

from keras_seminar.backend.dispatch import name

__all__ = ["epoch_ordered_batches"]


def epoch_ordered_batches(x, y, batch_size, seed=None):
    """`(batches, tracker)` on TensorFlow, None on the other backends.

    `batches` is a `tf.data.Dataset` of `(x, y)` batches whose epoch e takes the NumPy
    permutation of `(seed, e)` (seed None: one drawn from NumPy's global generator), made
    host-side (no strategy rewrite re-seeds it; a run resumed at epoch e sees an unbroken run's
    order) and gathered as Keras's adapter does; `tracker` is the callback that tells it the
    epoch: fit `batches` with it first in the callbacks and `shuffle=False`.
    """
    if name() != "tensorflow":
        return None
    import tensorflow as tf

    n, epoch = len(keras.tree.flatten((x, y))[0]), [0]
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
    tracker = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epoch.__setitem__(0, e))
    return batches.prefetch(tf.data.AUTOTUNE), tracker
