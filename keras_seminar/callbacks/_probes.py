"""What the callbacks measure, and on which layers: probe checks, gradients, kernels, activations.

Shared by `TensorBoard`, `GradientNormMonitor`, `SparsityMonitor` and `InformationPlane`, so no
callback imports another. Layers are chosen by what they compute, never by activation type:
every weight named `*kernel` (sublayers' too, e.g. each convolution of an `MLPConv`), and every
hidden layer output (`Maxout`, `MaxoutChannels`, `MLPConv`, residual blocks, ...).
"""

import keras
import numpy as np

from keras_seminar import backend
from keras_seminar.errors import UsageError
from keras_seminar.layers.maxout import MaxoutChannels
from keras_seminar.layers.random_shift import RandomShift


def _layer_classes(*names):
    return tuple(getattr(keras.layers, n) for n in names if hasattr(keras.layers, n))


# Layers whose inference output holds the same values as their input (reshaped at most).
PASS_THROUGH = _layer_classes(
    "InputLayer", "Flatten", "Reshape", "Permute", "Identity", "ActivityRegularization",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout",
    "GaussianDropout", "GaussianNoise", "RandomFlip", "RandomTranslation", "RandomRotation",
    "RandomZoom", "RandomContrast", "RandomBrightness") + (RandomShift,)
# Layers that finish the stage feeding them: Conv -> BN -> ReLU is measured once, after the ReLU.
FINISHERS = _layer_classes(
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax") + (MaxoutChannels,)


def check_probe(x, y=None, x_name="x", y_name="y"):
    """`(x, y)` if `x` is non-empty and, given `y`, as long as `x`; else a UsageError."""
    n_x = None if x is None else len(x)
    if y is None:
        if not n_x:
            raise UsageError(f"Expected a non-empty {x_name}. Received: len({x_name})={n_x}")
    elif not n_x or n_x != len(y):
        raise UsageError(f"Expected a non-empty probe with len({x_name}) == len({y_name}). "
                         f"Received: len({x_name})={n_x}, len({y_name})={len(y)}")
    return x, y


def probe_gradients(model, x, y, variables=None):
    """The compiled loss of `model` on `(x, y)` and its gradients, as NumPy (float64).

    Runs in inference mode (`training=False`): no dropout noise and no BatchNorm statistics
    update, so probing never changes the model. Regularization losses are included, as in
    `fit`. Works on every backend through `keras_seminar.backend.value_and_variable_grads`.

    Args:
        model: a compiled Keras model.
        x, y: the probe batch.
        variables: the variables to differentiate (default: `model.trainable_variables`).
    """
    if getattr(model, "loss", None) is None:
        raise UsageError(f"Expected a compiled model with a loss. Received: model {model.name!r} without one")
    variables = list(model.trainable_variables if variables is None else variables)
    x = keras.ops.convert_to_tensor(x)
    y = keras.ops.convert_to_tensor(y)

    def loss_fn():
        return model.compute_loss(x=x, y=y, y_pred=model(x, training=False), training=False)

    loss, grads = backend.value_and_variable_grads(loss_fn, variables)
    grads = [np.zeros(v.shape) if g is None else np.asarray(keras.ops.convert_to_numpy(g), np.float64)
             for g, v in zip(grads, variables, strict=True)]
    return float(keras.ops.convert_to_numpy(loss)), grads


def variable_label(variable, model):
    """A variable's path without the model's name: "conv" for "conv/kernel", "mlp/mlp_conv1" for
    a sublayer's kernel; names other than "kernel" stay ("lstm/lstm_cell/recurrent_kernel")."""
    path = variable.path
    prefix = f"{model.name}/"
    path = path[len(prefix):] if path.startswith(prefix) else path
    return path[:-len("/kernel")] if path.endswith("/kernel") else path


def kernel_variables(model):
    """`[(label, variable)]` of every weight named `*kernel`, in layer order, sublayers included
    (each convolution of an `MLPConv`, a nested model's layers); biases and norms excluded."""
    seen, found = set(), []
    for variable in model.weights:
        if variable.name.endswith("kernel") and id(variable) not in seen:
            seen.add(id(variable))
            found.append((variable_label(variable, model), variable))
    return found


def _flat(tensors):
    return keras.tree.flatten(tensors)


def _graph(model):
    """`(consumers, outputs)`: layer id -> the layers that read its output; ids of output tensors.
    A layer called more than once (no single `output`) is left out."""
    producer, consumers = {}, {id(layer): [] for layer in model.layers}
    for layer in model.layers:
        try:
            for tensor in _flat(layer.output):
                producer[id(tensor)] = layer
        except (AttributeError, ValueError):
            continue
    for layer in model.layers:
        try:
            inputs = _flat(layer.input)
        except (AttributeError, ValueError):
            continue
        for tensor in inputs:
            if id(tensor) in producer:
                consumers[id(producer[id(tensor)])].append(layer)
    return consumers, {id(t) for t in _flat(model.outputs)}


def hidden_layers(model):
    """The layers whose outputs are the model's hidden representations, in order.

    Every top-level layer between the inputs and the outputs, except those that pass values
    through at inference (`PASS_THROUGH`: Flatten, Dropout, noise, augmentation such as
    `RandomShift`) and a layer whose output goes only into `FINISHERS` (normalization,
    activation, `MaxoutChannels`), whose stage is measured after them. Needs a built functional
    or Sequential model.
    """
    consumers, outputs = _graph(model)

    def readers(layer):  # who reads `layer`'s values, looking through pass-through layers
        for reader in consumers.get(id(layer), []):
            yield from readers(reader) if isinstance(reader, PASS_THROUGH) else [reader]

    chosen = []
    for layer in model.layers:
        if isinstance(layer, PASS_THROUGH):
            continue
        try:
            if any(id(t) in outputs for t in _flat(layer.output)):
                continue
        except (AttributeError, ValueError):
            continue
        after = list(readers(layer))
        if after and all(isinstance(r, FINISHERS) for r in after):
            continue
        chosen.append(layer)
    return chosen


def activation_model(model, layers):
    """`(extractor, names)`: a model from `model`'s inputs to the outputs of `layers` (names or
    layer objects), and the layers' names."""
    try:
        layers = [model.get_layer(item) if isinstance(item, str) else item for item in layers]
        return keras.Model(model.inputs, [layer.output for layer in layers]), [layer.name for layer in layers]
    except (AttributeError, ValueError) as e:
        raise UsageError(f"Expected a built functional or Sequential model whose layers include "
                         f"{[getattr(item, 'name', item) for item in layers]}. Received: {model.name!r} ({e})") from e


def layer_activations(extractor, x):
    """The extractor's outputs on `x` (inference mode) as NumPy arrays."""
    outputs = extractor(keras.ops.convert_to_tensor(x), training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(keras.ops.convert_to_numpy(o)) for o in outputs]
