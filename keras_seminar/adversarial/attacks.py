"""Adversarial examples: FGSM and L-infinity PGD, and accuracy under attack (robustness curves).

Every attack is backend-agnostic: the loss is written with `keras.ops` and its input gradient
comes from `keras_seminar.backend.value_and_input_grad`; a batch's steps run as one function
compiled by `keras_seminar.backend.compile_function` once per model and loss (a few models are
kept, so a PGD batch in an adversarial-training loop does not retrace the model).
Attacks work on NumPy copies, batch by batch, and never modify the caller's arrays. The argument checks here serve
`keras_seminar.adversarial.training` too.

Example:
    >>> from keras_seminar import adversarial
    >>> x_adv = adversarial.fgsm(model, x_test, y_test, eps=0.1)
    >>> adversarial.robustness_curve(model, x_test, y_test, [0, 0.05, 0.1], attack="pgd")
    {'attack': 'pgd', 'eps': [0.0, 0.05, 0.1], 'accuracy': [0.97, 0.41, 0.02]}

Papers: Goodfellow, Shlens, Szegedy, "Explaining and harnessing adversarial examples", ICLR 2015
(FGSM); Madry et al., "Towards deep learning models resistant to adversarial attacks", ICLR 2018
(PGD with a random start).
"""

import math
import weakref

import keras
import numpy as np
from keras import ops

from keras_seminar import backend

__all__ = ["ATTACKS", "fgsm", "pgd", "predict_labels", "robustness_curve"]

ATTACKS = ("fgsm", "pgd")


def _check_number(name, value, low=0.0, strict=False):
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < low or (strict and value == low):
        relation = ">" if strict else ">="
        raise ValueError(f"Expected {name} to be a finite number {relation} {low}. Received: {name}={value!r}")
    return float(value)


def _check_int(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"Expected {name} to be an integer >= {low}. Received: {name}={value!r}")
    return int(value)


def _check_clip(clip):
    if clip is None:
        return None
    try:
        lo, hi = (float(v) for v in clip)
    except (TypeError, ValueError):
        raise ValueError(f"Expected clip to be a pair (min, max) or None. Received: clip={clip!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"Expected clip min < max, both finite. Received: clip={clip!r}")
    return lo, hi


def _check_data(x, y):
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError):  # ragged nested lists
        raw = None
    if raw is None or raw.dtype.kind not in "iuf":
        what = f"dtype={raw.dtype}" if raw is not None else f"a ragged {type(x).__name__}"
        raise ValueError(f"Expected inputs x to be an array of real numbers (attacked as float32). "
                         f"Received: x with {what}")
    x = np.array(raw, dtype="float32", copy=True)  # a private copy: the caller's array is never touched
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot labels
        if y.dtype.kind not in "biuf" or not np.all((y == 0) | (y == 1)) or \
                not np.all(y.sum(axis=1) == 1):
            raise ValueError(f"Expected integer labels y of shape (N,) or one-hot labels of shape "
                             f"(N, classes). Received: y.shape={y.shape} with rows that are not "
                             "one-hot")
        y = np.argmax(y, axis=-1)
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if x.ndim < 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"Expected x of shape (N, ...) and integer labels y of shape (N,). "
                         f"Received: x.shape={x.shape}, y.shape={y.shape}")
    if len(y) == 0:
        raise ValueError(f"Expected at least one example. Received: x.shape={x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"Expected finite inputs x. Received: {int(np.sum(~np.isfinite(x)))} "
                         "NaN/inf values; clean the data before attacking it.")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"Expected non-negative integer class labels y. Received: dtype={y.dtype}")
    if y.min() < 0:
        raise ValueError(f"Expected non-negative integer class labels y. Received: dtype={y.dtype}, "
                         f"min={y.min()}")
    return x, y.astype("int32")


def _declared(model, attribute):
    """`model.inputs` / `model.outputs` as a list, or None for a model that declares none (a
    subclassed model, a Sequential model not built yet)."""
    try:
        tensors = getattr(model, attribute)
    except (AttributeError, ValueError):
        return None
    return list(tensors) if tensors else None


def _shape_text(shape):
    return "(N, " + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def _output_shape(model, x):
    """The shape of the model's one output: declared, or (for a model that declares none) that of
    one call on x[:1], whose failure is one ValueError (an eager JAX call costs ms)."""
    outputs = _declared(model, "outputs")
    if outputs is not None:
        return tuple(outputs[0].shape) if len(outputs) == 1 else None
    try:
        return tuple(ops.shape(model(ops.convert_to_tensor(x[:1]), training=False)))
    except Exception as e:  # noqa: BLE001 - each backend raises its own types
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ValueError(f"Model {model.name!r} declares no input shape and cannot be called on "
                         f"x of shape {x.shape} ({first}); pass inputs the model accepts.") from e


def _check_model_fit(model, x, y, y_shape):
    """Checks `x` (N, ...) float32 and labels `y` (N,) int from `_check_data` against the model
    before anything is traced, so a mismatch is one ValueError whatever ran before: x's shape
    and the input dtype against the declared input, the output (N, classes), and the labels (or
    a one-hot's width, `y_shape` being the labels' shape as passed) against the classes."""
    inputs = _declared(model, "inputs")
    if inputs is not None and len(inputs) != 1:
        raise ValueError(f"Expected a model with one input to attack. Received: model "
                         f"{model.name!r} with {len(inputs)} inputs")
    if inputs is not None:
        want = tuple(inputs[0].shape)[1:]
        if len(want) != x.ndim - 1 or any(d not in (None, n) for d, n in zip(want, x.shape[1:])):
            raise ValueError(f"Expected inputs x of shape {_shape_text(want)} ({inputs[0].dtype}) "
                             f"for model {model.name!r}. Received: x.shape={x.shape}")
        if not keras.backend.is_float_dtype(inputs[0].dtype):
            raise ValueError(f"Expected a model with a floating-point input (the attack follows "
                             f"the gradient in x). Received: model {model.name!r} with input "
                             f"dtype {inputs[0].dtype}")
    out_shape = _output_shape(model, x)
    if out_shape is None or len(out_shape) != 2 or not isinstance(out_shape[1], int):
        raise ValueError(f"Expected a classifier with one output of shape (N, classes). Received: "
                         f"model {model.name!r} with output shape {out_shape or 'several'}")
    num_classes = out_shape[1]
    if len(y_shape) == 2 and y_shape[1] > 1 and y_shape[1] != num_classes:
        raise ValueError(f"Expected one-hot labels y of shape (N, {num_classes}) for a model with "
                         f"{num_classes} outputs. Received: y.shape={tuple(y_shape)}")
    if y.max() >= num_classes:
        raise ValueError(f"Expected labels y in [0, {num_classes - 1}] for a model with "
                         f"{num_classes} outputs. Received: max(y)={int(y.max())}")


def _logit_model(model):
    """`model` without its final softmax, or None when it has none to strip.

    Differentiating the cross-entropy through a saturated softmax (p_y == 1.0 in float32) gives
    zero gradients and a falsely "robust" model (gradient masking); the pre-softmax scores give
    the same loss, computed stably.
    """
    last = model.layers[-1] if getattr(model, "layers", None) else None
    if not isinstance(last, keras.layers.Activation) or getattr(last.activation, "__name__", "") != "softmax":
        return None
    try:
        return keras.Model(model.inputs, last.input, name=f"{model.name}_logits")
    except (AttributeError, ValueError, TypeError):  # subclassed models have no graph to cut
        return None


def _loss(model, from_logits):
    """`loss(x, y, sign)`: sign * sum of the cross-entropies, differentiable in x."""
    scores, logits = (model, True) if from_logits else (_logit_model(model), True)
    if scores is None:
        scores, logits = model, False

    def loss(x, y, sign):
        out = ops.cast(scores(x, training=False), "float32")
        # No upper clip of p: clipping p_y at 1 - eps would zero the gradient of confident outputs.
        log_p = ops.log_softmax(out, axis=-1) if logits else ops.log(ops.maximum(out, 1e-30))
        picked = ops.take_along_axis(log_p, ops.expand_dims(y, -1), axis=-1)
        return sign * -ops.sum(picked)

    return loss


_COMPILED = []  # (weakref to the model, from_logits, targeted, steps function), the most recent last
_COMPILED_KEEP = 4  # an attack on a model and its transfer source, their training loops


def _steps_function(model, from_logits, targeted):
    """The compiled `run(x_adv, x, y, eps, step_size, steps, lo, hi)`: `steps` signed-gradient
    steps on `model`'s summed cross-entropy (down it when targeted) from `x_adv`, each projected
    on the eps-ball around `x` and on [lo, hi]; from a small cache of the models attacked last."""
    for i, (ref, logits, target, run) in enumerate(_COMPILED):
        if ref() is model and (logits, target) == (from_logits, targeted):
            _COMPILED.append(_COMPILED.pop(i))
            return run
    loss, sign = _loss(model, from_logits), -1.0 if targeted else 1.0

    def run(x_adv, x, y, eps, step_size, steps, lo, hi):
        def step(_, x_adv):
            _, grad = backend.value_and_input_grad(lambda t: loss(t, y, sign), x_adv)
            return _project(x_adv + step_size * ops.sign(grad), x, eps, (lo, hi))

        return ops.fori_loop(0, steps, step, x_adv)

    run = backend.compile_function(run, model.variables)
    _COMPILED.append((weakref.ref(model), from_logits, targeted, run))
    del _COMPILED[:-_COMPILED_KEEP]
    return run


def _project(x_adv, x, eps, clip):
    x_adv = ops.clip(x_adv, x - eps, x + eps)
    return ops.clip(x_adv, clip[0], clip[1]) if clip else x_adv


def _attack(model, x, y, eps, steps, step_size, random_start, targeted, clip, from_logits,
            batch_size, seed):
    eps = _check_number("eps", eps)
    steps = _check_int("steps", steps)
    step_size = eps if step_size is None else _check_number("step_size", step_size, strict=True)
    clip = _check_clip(clip)
    batch_size = _check_int("batch_size", batch_size)
    if seed is not None:
        seed = _check_int("seed", seed, low=0)
    y_shape = np.shape(y)
    x, y = _check_data(x, y)
    _check_model_fit(model, x, y, y_shape)
    if eps == 0:
        return x
    run = _steps_function(model, from_logits, targeted)
    lo, hi = clip or (-np.inf, np.inf)
    rng = np.random.default_rng(seed)
    out = np.empty_like(x)
    for start in range(0, len(x), batch_size):
        xb = ops.convert_to_tensor(x[start:start + batch_size])
        yb = ops.convert_to_tensor(y[start:start + batch_size])
        x_adv = xb
        if random_start:
            noise = rng.uniform(-eps, eps, size=tuple(xb.shape)).astype("float32")
            x_adv = _project(xb + ops.convert_to_tensor(noise), xb, eps, clip)
        x_adv = run(x_adv, xb, yb, np.float32(eps), np.float32(step_size), np.int32(steps),
                    np.float32(lo), np.float32(hi))
        out[start:start + batch_size] = ops.convert_to_numpy(x_adv)
    return out


def fgsm(model, x, y, eps, targeted=False, clip=(0.0, 1.0), from_logits=False, batch_size=256):
    """Fast gradient sign method: `clip(x + eps * sign(grad_x J(x, y)))`.

    Args:
        model: a Keras classifier returning class probabilities (or logits with `from_logits`).
        x: inputs, (N, ...) floats; not modified.
        y: true labels (N,) (or one-hot); for `targeted=True`, the target labels.
        eps: L-infinity size of the perturbation, >= 0.
        targeted: step *down* the cross-entropy of `y` (towards class `y`) instead of up.
        clip: (min, max) valid input range, or None for no clipping.
        from_logits: whether `model` outputs logits.
        batch_size: examples per gradient computation.

    Returns:
        A new float32 array like `x`.

    Paper: Goodfellow, Shlens, Szegedy, ICLR 2015.
    """
    return _attack(model, x, y, eps, 1, None, False, targeted, clip, from_logits, batch_size, None)


def pgd(model, x, y, eps, steps=10, step_size=None, random_start=True, targeted=False,
        clip=(0.0, 1.0), from_logits=False, batch_size=256, seed=0):
    """L-infinity projected gradient descent: iterated FGSM steps, projected on the eps-ball.

    Args:
        model, x, y, eps, targeted, clip, from_logits, batch_size: as in `fgsm`.
        steps: number of gradient steps, >= 1.
        step_size: size of each step; default `2.5 * eps / steps` (Madry et al.).
        random_start: start from a uniform random point of the eps-ball.
        seed: seed of the random start.

    Returns:
        A new float32 array like `x`.

    Paper: Madry, Makelov, Schmidt, Tsipras, Vladu, ICLR 2018.
    """
    steps = _check_int("steps", steps)
    if step_size is None:
        step_size = 2.5 * _check_number("eps", eps) / steps or None
    return _attack(model, x, y, eps, steps, step_size, random_start, targeted, clip, from_logits,
                   batch_size, seed)


def predict_labels(model, x, batch_size=256):
    """Arg-max class of `model` on `x`, computed in batches (inference mode)."""
    batch_size = _check_int("batch_size", batch_size)
    labels = [np.argmax(ops.convert_to_numpy(model(ops.convert_to_tensor(x[i:i + batch_size]),
                                                   training=False)), axis=-1)
              for i in range(0, len(x), batch_size)]
    return np.concatenate(labels) if labels else np.zeros((0,), "int64")


def robustness_curve(model, x, y, eps_list, attack="fgsm", batch_size=256, **attack_options):
    """Accuracy under attack for each eps of `eps_list`.

    Args:
        model, x, y: classifier and labelled data, as in `fgsm`.
        eps_list: perturbation sizes; eps = 0 gives the clean accuracy.
        attack: "fgsm" or "pgd".
        batch_size: examples per gradient computation.
        **attack_options: passed to the attack (e.g. `steps`, `clip`, `from_logits`).

    Returns:
        `{"attack": attack, "eps": [...], "accuracy": [...]}`.
    """
    if attack not in ATTACKS:
        raise ValueError(f"Expected attack in {ATTACKS}. Received: attack={attack!r}")
    eps_list = [_check_number("eps", e) for e in np.atleast_1d(eps_list).tolist()]
    if not eps_list:
        raise ValueError("Expected a non-empty eps_list. Received: eps_list=[]")
    x, y = _check_data(x, y)
    fn = fgsm if attack == "fgsm" else pgd
    accuracy = []
    for eps in eps_list:
        x_adv = fn(model, x, y, eps, batch_size=batch_size, **attack_options)
        accuracy.append(float(np.mean(predict_labels(model, x_adv, batch_size) == y)))
    return {"attack": attack, "eps": eps_list, "accuracy": accuracy}
