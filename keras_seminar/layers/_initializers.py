"""One initializer per kernel shape, for builders and layers that make several kernels."""

import keras


def kernel_initializers(kernel_initializer):
    """`for_shape(shape)`: the initializer for the next kernel of that shape.

    One Keras initializer instance draws the same values at every call (Keras 3 fixes an
    unseeded one's seed when it is created), so kernels of one shape sharing it start identical
    (a 784-64-64-64 MLP's fc2 and fc3 did). A kernel of a shape not seen yet gets the shared
    instance (so a net without repeated shapes draws what it always drew); a repeated shape gets
    a copy with its own seed (an integer seed is offset by the repeat count).
    """
    shared = keras.initializers.get(kernel_initializer)  # raises ValueError naming a bad one
    seen, repeats = set(), [0]

    def for_shape(shape):
        shape = tuple(shape)
        if shape not in seen:
            seen.add(shape)
            return shared
        repeats[0] += 1
        config = shared.get_config()
        if isinstance(config.get("seed"), int):
            config["seed"] += repeats[0]
        return shared.__class__.from_config(config)

    return for_shape
