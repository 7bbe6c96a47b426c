"""A plain multi-layer perceptron: the small dense net of the seminar's experiments.

Flatten -> [Dense(h, activation) -> Dropout] x len(hidden) -> Dense(num_classes) "logits" ->
softmax "predictions" (with `drop_connect`, the hidden layers are `DropConnectDense`, Wan et al.
2013). The experiments (positivity, sparsity, information plane, depth, dropconnect) read its
layers by name: `fc1 ... fcN` and `logits`.
"""

import keras

from keras_seminar.layers import DropConnectDense
from keras_seminar.models import _common
from keras_seminar.models import hyperparameters as hps
from keras_seminar.models.registry import ModelSpec, Recipe, register

__all__ = ["build_mlp", "RECIPE", "search_space"]

# Adam at 1e-3, batch 128, 20 epochs: a one-hidden-layer MLP is near its best (~98% MNIST,
# ~89% Fashion-MNIST) well before; a constant rate keeps runs of different lengths comparable.
RECIPE = Recipe(epochs=20, batch_size=128, optimizer="adam", learning_rate=1e-3)


# No `augment`: the MLP is the permutation-invariant baseline.
def build_mlp(input_shape=(28, 28, 1), num_classes=10, hidden=(256,), activation="relu",
              dropout=0.0, drop_connect=0.0, kernel_regularizer=None, kernel_constraint=None,
              output_constraint=None, kernel_initializer="glorot_uniform",
              classifier_activation="softmax", name="mlp"):
    """Flatten - Dense(h, activation) x len(hidden) - Dense(num_classes) - softmax.

    Args:
        input_shape: image shape, e.g. (28, 28, 1).
        num_classes: number of classes.
        hidden: units of each hidden layer; `()` is softmax regression with `logits` naming.
        activation: hidden activation.
        dropout: dropout after every hidden layer.
        drop_connect: DropConnect rate of every hidden layer's kernel (`DropConnectDense`,
            Wan et al. 2013); 0 keeps plain `Dense` layers. The layers keep their names.
        kernel_regularizer: applied to every kernel.
        kernel_constraint: applied to the hidden kernels (e.g. "nonneg").
        output_constraint: applied to the hidden->output kernel; defaults to
            `kernel_constraint`.
        kernel_initializer: initializer of every kernel.
        classifier_activation: "softmax" or None for logits.

    Example:
        >>> model = build_mlp(hidden=(512, 256), dropout=0.2, kernel_constraint="nonneg")
        >>> wan2013 = build_mlp(hidden=(800, 800), drop_connect=0.5)
    """
    empty = isinstance(hidden, (list, tuple)) and not hidden
    units = [] if empty else _common.check_positive_ints("hidden", hidden)
    keras.activations.get(activation)  # raises ValueError naming an unknown activation
    dropout = _common.check_rate("dropout", dropout)
    drop_connect = _common.check_rate("drop_connect", drop_connect)
    initializer = _common.kernel_initializers(kernel_initializer)
    reg, constraint, out_constraint = _common.kernel_options(kernel_regularizer, kernel_constraint,
                                                             output_constraint)

    inputs = keras.Input(input_shape, name="images")
    x = keras.layers.Flatten(name="flatten")(inputs)
    fan_in = x.shape[-1]
    for i, u in enumerate(units):
        hidden_options = {"rate": drop_connect} if drop_connect else {}
        layer = DropConnectDense if drop_connect else keras.layers.Dense
        x = layer(u, activation=activation, kernel_initializer=initializer((fan_in, u)), kernel_regularizer=reg,
                  kernel_constraint=constraint, name=f"fc{i + 1}", **hidden_options)(x)
        fan_in = u
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"fc{i + 1}_dropout")(x)
    x = keras.layers.Dense(num_classes, kernel_initializer=initializer((fan_in, num_classes)), kernel_regularizer=reg,
                           kernel_constraint=out_constraint, name="logits")(x)
    outputs = keras.layers.Activation(classifier_activation or "linear", dtype="float32",
                                      name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def search_space(hp, defaults):
    """`tune`: 1-3 hidden layers (the last width repeated), all widths times a multiplier."""
    depth = hps.depth(hp, [1, 2, 3], len(defaults["hidden"]))
    return {"hidden": hps.scale(hps.resize(defaults["hidden"], depth), hps.width(hp))}


register(ModelSpec("mlp", build_mlp, RECIPE, "MLP: flatten, dense 256 (relu), softmax", search_space))
