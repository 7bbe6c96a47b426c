"""`add_aliases`: the string names every Keras layer takes for the package's regularizers and
constraints (`kernel_regularizer="l12"`, `kernel_constraint="nonneg"`)."""

import importlib


def add_aliases(kind, aliases):
    """Adds `aliases` (`{name: class}`) to the names `keras.<kind>.get` resolves.

    Args:
        kind: "regularizers" or "constraints".
        aliases: name -> class; a bare name means the class with its default arguments.
    """
    # The one write into Keras's private name tables: `keras.regularizers.get` and
    # `keras.constraints.get` (which every layer calls on `kernel_regularizer=` and friends)
    # look a string up only in `keras.src.<kind>.ALL_OBJECTS_DICT` (Keras 3.15). The public
    # registration, `keras.saving.register_keras_serializable` (every class here has it),
    # fills the custom-object table that serves config dicts and `.keras` files, never a bare
    # string, and Keras offers no public way to add a name. A `.keras` file still records the
    # registered class and its config, never the alias.
    importlib.import_module(f"keras.src.{kind}").ALL_OBJECTS_DICT.update(aliases)
