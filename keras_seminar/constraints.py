"""Weight constraints: non-negativity, non-negative max-norm, and applying them to a model.

In Keras 3 the optimizer projects a variable after each update with `variable.constraint`
(set from `layer.kernel_constraint` when the layer builds). `apply_constraint` therefore
sets both the layer attribute (so `get_config` and a rebuild see it) and, for a built
layer, the variable's `.constraint` (so the next `fit` step uses it).
"""

import fnmatch
import inspect

import keras
from keras import ops

from keras_seminar._aliases import add_aliases

__all__ = ["apply_constraint", "get", "NonNeg", "nonneg_output_layer", "NonNegMaxNorm"]

NonNeg = keras.constraints.NonNeg


def get(identifier):
    """A constraint from a name, config dict, instance or None, like `keras.constraints.get`.

    Names are Keras's (`"non_neg"`, `"max_norm"`, ...) and this module's aliases, `"nonneg"`
    and `"nonneg_max_norm"` (or `"non_neg_max_norm"`, `"NonNegMaxNorm"`: `NonNegMaxNorm(2.0)`);
    after `import keras_seminar` every Keras layer accepts them too.

    Example:
    >>> get("nonneg")(keras.ops.convert_to_tensor([-1.0, 2.0]))  # [0., 2.]
    """
    return keras.constraints.get(identifier)


@keras.saving.register_keras_serializable(package="keras_seminar")
class NonNegMaxNorm(keras.constraints.MaxNorm):
    """Clips negative weights to 0, then rescales each unit's weights to norm <= max_value.

    Args:
        max_value: Float > 0, the largest allowed norm of the incoming weights.
        axis: Int or list of ints, the axes of one unit's incoming weights (0 for a
            `Dense` kernel `(in, out)`, `[0, 1, 2]` for a `Conv2D` kernel).

    The axes are checked against the weight when the constraint is applied: an axis the
    weight does not have is a `ValueError` naming it.

    Example:
    >>> layer = keras.layers.Dense(8, kernel_constraint=NonNegMaxNorm(2.0))
    >>> layer = keras.layers.Dense(8, kernel_constraint="nonneg_max_norm")  # the same

    Paper: Srivastava et al., "Dropout", JMLR 2014 (max-norm); Chorowski, Zurada,
    "Learning understandable neural networks with nonnegative weight constraints",
    IEEE TNNLS 2015.
    """

    def __init__(self, max_value=2.0, axis=0):
        if not isinstance(max_value, (int, float)) or not 0 < max_value < float("inf"):
            raise ValueError(
                f"Expected max_value to be a finite float > 0. Received: max_value={max_value}"
            )
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            raise ValueError(f"Expected axis to be an int or a list of ints. Received: axis={axis}")
        super().__init__(max_value=float(max_value), axis=axis if isinstance(axis, int) else axes)

    def __call__(self, w):
        w = ops.convert_to_tensor(w)
        rank = len(w.shape)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        if not all(-rank <= a < rank for a in axes) or len({a % rank for a in axes}) < len(axes):
            raise ValueError(
                f"Expected distinct axes in [-{rank}, {rank - 1}] for a weight of shape "
                f"{tuple(w.shape)}. Received: axis={self.axis}"
            )
        return super().__call__(ops.relu(w))


_ALIASES = {
    "nonneg": NonNeg,
    "nonneg_max_norm": NonNegMaxNorm,
    "non_neg_max_norm": NonNegMaxNorm,
    "NonNegMaxNorm": NonNegMaxNorm,
}
add_aliases("constraints", _ALIASES)


def _walk(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):  # nested Functional / Sequential models
            yield from _walk(layer)


def _matcher(layers):
    if layers is None:
        return lambda layer: True
    if isinstance(layers, str):
        return lambda layer: fnmatch.fnmatchcase(layer.name, layers)
    if inspect.isclass(layers):
        return lambda layer: isinstance(layer, layers)
    if isinstance(layers, (list, tuple, set)):
        matchers = [_matcher(item) for item in layers]
        return lambda layer: any(m(layer) for m in matchers)
    if callable(layers):
        return layers
    raise ValueError(
        "Expected layers to be a name (glob), a layer class, a predicate, a list of these or "
        f"None. Received: layers={layers!r}"
    )


def apply_constraint(model, constraint, layers=None, attribute="kernel", project=True):
    """Sets `constraint` on the `attribute` weights of the model's matching layers.

    Args:
        model: A Keras model (nested models are searched too).
        constraint: A constraint or identifier (`"non_neg"`, a config dict, ...).
        layers: Which layers: a name or glob (`"dense*"`), a layer class, a predicate
            `layer -> bool`, a list of these, or None for every layer with the attribute.
        attribute: Weight name; the layer must have `{attribute}_constraint` or a variable
            `{attribute}`, e.g. `"kernel"`, `"bias"`, `"depthwise_kernel"`.
        project: Also project the current values of built weights right away, so the
            model satisfies the constraint before the first update.

    Returns:
        The names of the affected layers, in model order.

    Example:
    >>> apply_constraint(model, "non_neg", layers=keras.layers.Dense)
    ['dense', 'dense_1']
    """
    if not isinstance(attribute, str) or not attribute.isidentifier():
        raise ValueError(
            f"Expected attribute to be a weight name such as 'kernel'. Received: attribute={attribute!r}"
        )
    constraint = get(constraint)
    if constraint is None:
        raise ValueError(f"Expected a constraint. Received: constraint={constraint}")
    match, key = _matcher(layers), f"{attribute}_constraint"
    affected = []
    for layer in _walk(model):
        variable = getattr(layer, attribute, None) if layer.built else None
        has_variable = isinstance(variable, keras.Variable)
        if not match(layer) or not (hasattr(layer, key) or has_variable):
            continue
        setattr(layer, key, constraint)
        if has_variable:
            variable.constraint = constraint
            if project:
                variable.assign(constraint(variable))
        affected.append(layer.name)
    if not affected:
        names = [layer.name for layer in _walk(model)]
        raise ValueError(
            f"No layer matched layers={layers!r} with a `{attribute}` weight. "
            f"Layers in the model: {names}"
        )
    return affected


def nonneg_output_layer(model, project=True):
    """Constrains the last `Dense` layer (hidden -> output weights) to be non-negative.

    The "positivity hypothesis": with non-negative output weights each class score is a
    sum of hidden evidence, which makes the hidden units easier to read.

    Args:
        model: A Keras model with at least one `Dense` layer.
        project: Also clip the current negative weights to 0.

    Returns:
        The name of the constrained layer.

    Example:
    >>> nonneg_output_layer(model)
    'predictions'
    """
    dense = [layer for layer in _walk(model) if isinstance(layer, keras.layers.Dense)]
    if not dense:
        raise ValueError(f"Expected a model with a Dense layer. Received: model={model.name}")
    last = dense[-1]
    return apply_constraint(model, NonNeg(), layers=lambda layer: layer is last, project=project)[0]
