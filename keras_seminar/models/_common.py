"""Pieces every model builder shares: the head, option checks, regularizer look-up."""

import keras

from keras_seminar import constraints, regularizers
from keras_seminar.layers import RandomShift
from keras_seminar.layers._initializers import kernel_initializers  # noqa: F401  (the builders' helper)

# Keras and keras_seminar objects by name (incl. "l12", "nonneg"), config dict, instance or None.
get_regularizer = regularizers.get
get_constraint = constraints.get


def check_rate(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"Expected {name} in [0, 1). Received: {name}={value!r}")
    return float(value)


def check_positive_ints(name, values):
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(f"Expected {name} to be positive integers. Received: {name}={values!r}")
    return values


def classifier_head(x, num_classes, classifier_activation, output_constraint=None,
                    kernel_regularizer=None, name="predictions", kernel_initializer="glorot_uniform"):
    """Dense(num_classes) + activation in float32 (safe under mixed precision)."""
    x = keras.layers.Dense(num_classes, kernel_initializer=kernel_initializer, kernel_regularizer=kernel_regularizer,
                           kernel_constraint=output_constraint, name=f"{name}_dense")(x)
    return keras.layers.Activation(classifier_activation or "linear", dtype="float32", name=name)(x)


def augmentation(x, augment, name="augment"):
    """Training-time augmentation layers (identity at inference), from a recipe's dict.

    Args:
        augment: None, or a dict with
            `shift`: whole pixels of pad-and-crop translation through the fused, on-device
                `keras_seminar.layers.RandomShift` (which also does the flip), the fast choice;
            `translate`: fraction of height/width for Keras's `RandomTranslation` (bilinear
                affine resampling; the choice of the models measured before `shift` existed);
            `flip`: True for random horizontal flips (right for Fashion-MNIST, wrong for
                digits).
    """
    if not augment:
        return x
    unknown = set(augment) - {"translate", "flip", "shift"}
    if unknown:
        raise ValueError(f"Unknown augment keys {sorted(unknown)}. Expected 'shift', 'translate', 'flip'.")
    if "shift" in augment:
        if "translate" in augment:
            raise ValueError("Expected one of augment['shift'] (pixels) and augment['translate'] "
                             f"(fraction), not both. Received: augment={augment!r}")
        return RandomShift(augment["shift"], horizontal_flip=bool(augment.get("flip")),
                           name=f"{name}_shift")(x)
    translate = augment.get("translate", 0.0)
    if translate:
        check_rate("augment['translate']", translate)
        x = keras.layers.RandomTranslation(translate, translate, fill_mode="constant",
                                           name=f"{name}_translate")(x)
    if augment.get("flip"):
        x = keras.layers.RandomFlip("horizontal", name=f"{name}_flip")(x)
    return x


def kernel_options(kernel_regularizer, kernel_constraint, output_constraint):
    """`(regularizer, hidden constraint, hidden->output constraint)` from a builder's arguments.

    The output constraint defaults to the hidden one, so "nonneg" alone makes the whole net
    non-negative and `output_constraint="nonneg"` alone only its last connections.
    """
    constraint = get_constraint(kernel_constraint)
    output = get_constraint(output_constraint) if output_constraint else constraint
    return get_regularizer(kernel_regularizer), constraint, output
