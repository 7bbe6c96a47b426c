"""Sparsity regularizers: smoothed Lq / L1/2, group lasso, activity sparsity, combinations.

All are `keras.regularizers.Regularizer`s registered under `keras_seminar>`, so they work
as `kernel_regularizer=` / `activity_regularizer=` and survive a `.keras` round trip.
"""

import math

import keras
from keras import ops

from keras_seminar._aliases import add_aliases
from keras_seminar._validators import check_float

__all__ = ["ActivitySparsity", "Combined", "get", "GroupLasso", "L12", "Lq"]


def _check_factor(value, name):
    """A finite real >= 0 (NumPy scalars included, bools not), returned as a Python float."""
    return check_float(name, value, low=0)


def _smoothed_lq_sum(x, q, a):
    """`sum(f(x) ** q)` with a hand-written gradient (see `keras_seminar.regularizers.Lq`).

    Written without `where`, as a few fused-friendly elementwise ops: with
    `r = min((x / a)**2, 1)` and `m = max(|x|, a)`,
    `f = m + a * (r * (3/4 - r/8) - 5/8)` (the quartic inside, `|x|` outside) and
    `f' = x / m * (3/2 - r/2)`. Nothing can overflow into inf/NaN: `r <= 1`, `m >= a`,
    `f >= 3a/8`. The hand-written gradient needs fewer ops than autodiff would emit, which
    matters on TensorFlow CPU, where Keras does not XLA-fuse the train step.
    """

    @ops.custom_gradient
    def penalty(x):
        dtype = x.dtype
        a_ = ops.cast(a, dtype)
        r = ops.minimum(ops.square(x / a_), ops.cast(1.0, dtype))
        m = ops.maximum(ops.abs(x), a_)
        # Horner form with `a` folded into the constants (one op fewer on the hot path).
        f = m + (r * (0.75 * a - 0.125 * a * r) - 0.625 * a)
        if q == 1.0:
            fq = f
        elif q == 0.5:
            fq = ops.sqrt(f)
        else:
            fq = ops.exp(ops.cast(q, dtype) * ops.log(f))  # cheaper than power on CPU

        def grad(*args, upstream=None):
            if upstream is None:  # TensorFlow passes it positionally, JAX by keyword
                (upstream,) = args
            slope = x / m * (1.5 - 0.5 * r)  # f'(x)
            if q == 0.5:
                slope = slope / fq  # d sqrt(f) = f' / (2 sqrt(f)); the 1/2 is in `q`
            elif q != 1.0:
                slope = slope * fq / f
            return ops.cast(upstream * q, dtype) * slope

        return ops.sum(fq), grad

    return penalty(x)


@keras.saving.register_keras_serializable(package="keras_seminar")
class Lq(keras.regularizers.Regularizer):
    """Smoothed Lq penalty, `factor * sum(f(w) ** q)` for `0 < q <= 1`.

    `|w| ** q` has an infinite gradient at `w = 0`; following Wu et al. it is replaced near
    zero by a quartic that matches `|w|` in value, slope and curvature at `|w| = a`:
    `f(w) = |w|` for `|w| >= a`, else `-w**4 / (8 a**3) + 3 w**2 / (4 a) + 3 a / 8`.
    Since `f >= 3a/8 > 0`, values and gradients stay finite for every `w` (0 included),
    and the penalty equals `factor * sum(|w| ** q)` wherever `|w| >= a`.

    Args:
        q: Float in (0, 1], the exponent (1/2 for L1/2; 1 gives a smoothed L1).
        factor: Float >= 0, the regularization strength (lambda).
        a: Float > 0, half-width of the smoothed region around zero.

    Example:
    >>> layer = keras.layers.Dense(8, kernel_regularizer=Lq(q=0.5, factor=1e-4))

    Paper: Wu, Fan, Zurada, Wang, Li, Liu, "Batch gradient method with smoothing L1/2
    regularization for training of feedforward neural networks", Neural Networks 50, 2014.
    """

    def __init__(self, q=0.5, factor=0.01, a=1e-2):
        self.q = check_float("q", q, low=0, high=1, low_open=True)  # a number: "0.5" is refused
        self.factor = _check_factor(factor, "factor")
        self.a = check_float("a", a, low=0, low_open=True)

    def __call__(self, x):
        # `copy` reads a variable into a plain tensor: TensorFlow's custom gradient
        # would otherwise also ask for gradients with respect to the variable it sees.
        x = ops.copy(ops.convert_to_tensor(x))
        return ops.cast(self.factor, x.dtype) * _smoothed_lq_sum(x, self.q, self.a)

    def get_config(self):
        return {"q": self.q, "factor": self.factor, "a": self.a}


@keras.saving.register_keras_serializable(package="keras_seminar")
class L12(Lq):
    """Smoothed L1/2 penalty, `factor * sum(f(w) ** 0.5)`: `Lq` with `q = 1/2`.

    Args:
        factor: Float >= 0, the regularization strength (lambda).
        a: Float > 0, half-width of the smoothed region around zero.

    Example:
    >>> layer = keras.layers.Dense(8, kernel_regularizer=L12(1e-4))

    Paper: Wu et al., Neural Networks 50, 2014 (see `Lq`); Xu et al., "L1/2
    regularization", Science China 2010.
    """

    def __init__(self, factor=0.01, a=1e-2):
        super().__init__(q=0.5, factor=factor, a=a)

    def get_config(self):
        return {"factor": self.factor, "a": self.a}


@keras.saving.register_keras_serializable(package="keras_seminar")
class GroupLasso(keras.regularizers.Regularizer):
    """Group lasso: `factor * sum_g sqrt(|g|) * ||w_g||_2`, one group per output unit.

    A group is a slice along `axis` (the output axis: -1 for `Dense` kernels
    `(in, out)` and channels-last `Conv2D` kernels `(kh, kw, in, out)`, i.e. one group per
    unit or filter), `|g|` its size. The norm is smoothed as
    `sqrt(||w_g||**2 + epsilon) - sqrt(epsilon)`, so the penalty is 0 at `w = 0` and its
    gradient stays finite there.

    Args:
        factor: Float >= 0, the regularization strength (lambda).
        axis: Int, the axis indexing the groups.
        epsilon: Float > 0, smoothing constant.

    Example:
    >>> layer = keras.layers.Dense(8, kernel_regularizer=GroupLasso(1e-3))

    Paper: Yuan, Lin, "Model selection and estimation in regression with grouped
    variables", JRSS-B 2006; Scardapane et al., "Group sparse regularization for deep
    neural networks", Neurocomputing 2017.
    """

    def __init__(self, factor=0.01, axis=-1, epsilon=1e-8):
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(f"Expected axis to be an int. Received: axis={axis}")
        if not isinstance(epsilon, (int, float)) or not 0 < epsilon < math.inf:
            raise ValueError(
                f"Expected epsilon to be a finite float > 0. Received: epsilon={epsilon}"
            )
        self.factor = _check_factor(factor, "factor")
        self.axis = axis
        self.epsilon = float(epsilon)

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        ndim = len(x.shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(
                f"Expected axis in [-{ndim}, {ndim - 1}] for a weight of shape {x.shape}. "
                f"Received: axis={self.axis}"
            )
        axis = self.axis % ndim
        reduce = tuple(i for i in range(ndim) if i != axis)
        group_size = math.prod(x.shape[i] for i in reduce)
        eps = ops.cast(self.epsilon, x.dtype)
        norms = ops.sqrt(ops.sum(ops.square(x), axis=reduce) + eps) - ops.sqrt(eps)
        scale = self.factor * math.sqrt(group_size)
        return ops.cast(scale, x.dtype) * ops.sum(norms)

    def get_config(self):
        return {"factor": self.factor, "axis": self.axis, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="keras_seminar")
class ActivitySparsity(keras.regularizers.Regularizer):
    """Activity sparsity: `l1 * sum|h| + beta * sum_j KL(target || rho_hat_j)`.

    `rho_hat_j` is unit j's mean activation over every axis but the last (so activations
    should lie in (0, 1), e.g. after a sigmoid), clipped to `(epsilon, 1 - epsilon)`;
    `KL(r || p) = r log(r / p) + (1 - r) log((1 - r) / (1 - p))`. Note that Keras divides
    an `activity_regularizer`'s value by the batch size.

    Args:
        l1: Float >= 0, weight of the L1 penalty on the activations (0.01, as Keras's "l1").
        target: Float in (0, 1), the target mean activation rho.
        beta: Float >= 0, weight of the KL term (0 turns it off).
        epsilon: Float in (0, 0.5), clipping margin for `rho_hat`.

    Example:
    >>> layer = keras.layers.Dense(
    ...     64, activation="sigmoid",
    ...     activity_regularizer=ActivitySparsity(l1=0.0, target=0.05, beta=3.0))
    >>> layer = keras.layers.Dense(64, activity_regularizer="activity_sparsity")  # L1, 0.01

    Paper: Ng, "Sparse autoencoder", CS294A lecture notes, 2011; Lee, Ekanadham, Ng,
    "Sparse deep belief net model for visual area V2", NIPS 2007.
    """

    def __init__(self, l1=0.01, target=0.05, beta=0.0, epsilon=1e-7):
        self.l1 = _check_factor(l1, "l1")
        if not isinstance(target, (int, float)) or not 0 < target < 1:
            raise ValueError(f"Expected target in (0, 1). Received: target={target}")
        self.target = float(target)
        self.beta = _check_factor(beta, "beta")
        if not isinstance(epsilon, (int, float)) or not 0 < epsilon < 0.5:
            raise ValueError(f"Expected epsilon in (0, 0.5). Received: epsilon={epsilon}")
        self.epsilon = float(epsilon)

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        dtype = x.dtype
        # float16 cannot hold 1 - 1e-7 (it rounds to 1 and log(0) = -inf): work in float32.
        x = ops.cast(x, "float32")
        penalty = ops.zeros((), dtype=x.dtype)
        if self.l1:
            penalty = penalty + ops.cast(self.l1, x.dtype) * ops.sum(ops.abs(x))
        if self.beta:
            rho_hat = ops.mean(x, axis=tuple(range(len(x.shape) - 1)))
            rho_hat = ops.clip(rho_hat, self.epsilon, 1.0 - self.epsilon)
            rho = ops.cast(self.target, x.dtype)
            kl = rho * ops.log(rho / rho_hat) + (1 - rho) * ops.log((1 - rho) / (1 - rho_hat))
            penalty = penalty + ops.cast(self.beta, x.dtype) * ops.sum(kl)
        return ops.cast(penalty, dtype)

    def get_config(self):
        return {"l1": self.l1, "target": self.target, "beta": self.beta, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="keras_seminar")
class Combined(keras.regularizers.Regularizer):
    """Sum of several regularizers, e.g. `Combined([L12(1e-4), keras.regularizers.L2(1e-4)])`.

    Args:
        regularizers: Non-empty list of regularizers or identifiers accepted by `get`.

    Example:
    >>> layer = keras.layers.Dense(8, kernel_regularizer=Combined(["l12", "l2"]))
    """

    def __init__(self, regularizers):
        if not isinstance(regularizers, (list, tuple)) or not regularizers:
            raise ValueError(
                f"Expected a non-empty list of regularizers. Received: regularizers={regularizers}"
            )
        self.regularizers = [get(r) for r in regularizers]
        if any(r is None for r in self.regularizers):
            raise ValueError(f"Expected no None regularizer. Received: regularizers={regularizers}")

    def __call__(self, x):
        total = self.regularizers[0](x)
        for regularizer in self.regularizers[1:]:
            total = total + regularizer(x)
        return total

    def get_config(self):
        return {"regularizers": [keras.regularizers.serialize(r) for r in self.regularizers]}


# A bare name means the class with its defaults, as Keras's "l1" means `L1(0.01)`: every one
# of these penalizes with strength 0.01 (`ActivitySparsity`: an L1 of 0.01 on the activations).
_ALIASES = {
    "lq": Lq,
    "l12": L12,
    "l1/2": L12,
    "l1_2": L12,
    "l_half": L12,
    "group_lasso": GroupLasso,
    "grouplasso": GroupLasso,
    "activity_sparsity": ActivitySparsity,
}
_ALIASES.update({cls.__name__: cls for cls in (Lq, L12, GroupLasso, ActivitySparsity)})

add_aliases("regularizers", _ALIASES)


def get(identifier):
    """Returns a regularizer from a string, config dict, list, instance or None.

    Strings name this module's regularizers (`"lq"`, `"l12"`, `"l1/2"`, `"group_lasso"`,
    `"activity_sparsity"`, with default arguments: strength 0.01, as Keras's `"l1"`) or Keras
    ones (`"l1"`, `"l2"`, `"l1_l2"`, ...), in any case; a list or tuple becomes a `Combined`;
    dicts are deserialized. Every Keras layer takes the same names (exactly as spelled here)
    once `keras_seminar` is imported.

    Example:
    >>> get("l1/2")  # L12(factor=0.01)
    >>> get({"class_name": "GroupLasso", "config": {"factor": 1e-3}})
    """
    if identifier is None:
        return None
    if isinstance(identifier, (list, tuple)):
        return Combined(list(identifier))
    if isinstance(identifier, str):
        key = identifier if identifier in _ALIASES else identifier.lower()
        if key in _ALIASES:
            return _ALIASES[key]()
    if isinstance(identifier, dict) and "registered_name" not in identifier:
        cls = {**_ALIASES, "Combined": Combined}.get(identifier.get("class_name"))
        if cls is not None:  # a short hand-written config: {"class_name": "L12", ...}
            return cls.from_config(identifier.get("config", {}))
    return keras.regularizers.get(identifier)
