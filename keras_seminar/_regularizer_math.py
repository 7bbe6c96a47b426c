"""The arithmetic behind `keras_seminar.regularizers`: the strength check and the smoothed Lq sum.

Private: the regularizers in `keras_seminar.regularizers` are the public face; this module
holds the part of their maths that is not a class (kept apart so that file stays readable).
"""

import math
import numbers

from keras import ops


def check_factor(value, name):
    """A finite real >= 0 (NumPy scalars included, bools not), returned as a Python float."""
    if (
        not isinstance(value, numbers.Real)  # NumPy scalars included
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"Expected {name} to be a finite float >= 0. Received: {name}={value}")
    return float(value)


def smoothed_lq_sum(x, q, a):
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
