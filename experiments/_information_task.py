"""The task and net of Shwartz-Ziv & Tishby (2017), and n runs of it trained as one vectorized model.

The task: all 4,096 patterns x of 12 bits, one bit per vertex of a regular icosahedron (12 exactly
uniform points on the sphere). The label is a spherically symmetric rule, y = [f(x) > 0] with
s_i = 2 x_i - 1 and

    f(x) = sum_i s_i + sum_{i<j} s_i s_j k(v_i . v_j),  k(1/sqrt5) = -0.2, k(-1/sqrt5) = 0.1, k(-1) = 0,

a function of the pattern and the angles between its points only, so it is invariant under every
rotation or reflection that maps the icosahedron onto itself. The paper's own labels (its
`var_u.mat`) are not public text; this rule reproduces their label fraction per number of ones
exactly (0 for <= 4 ones, 60/792 for 5, 532/924 for 6, 732/792 for 7, 1 for >= 8; p(y=1) =
2118/4096 = 0.517), as the deep-bottleneck project tabulated the original file.

The net: 12-10-7-5-4-3-2, tanh or ReLU hidden layers, softmax output. Every run (seed) draws its
own 85% training split, its own per-epoch data order and its own initial weights (truncated normal,
std 1/sqrt(fan_in), zero biases) from NumPy generators seeded by the seed alone; the K runs are
then trained side by side as one Keras model whose weights carry a leading run axis (`Members`),
with the loss summed over runs, so each run's gradient, and Adam's update of it, is exactly that
of the run trained alone. One compiled step trains all K runs: that is what makes thousands of
epochs times 20 runs fit a 2-core CPU.
"""

import keras
import numpy as np

from keras_seminar.training import fit_model

PATTERNS = 4096
BITS = 12


def icosahedron():
    """The 12 unit vertices of a regular icosahedron, (12, 3)."""
    phi = (1 + 5 ** 0.5) / 2
    v = np.array([p for a in (-1, 1) for b in (-phi, phi) for p in ((0, a, b), (a, b, 0), (b, 0, a))], float)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def patterns():
    """All 4,096 inputs as 0/1 float32 rows (bit j of row i is bit j of i)."""
    return ((np.arange(PATTERNS)[:, None] >> np.arange(BITS)) & 1).astype("float32")


def rule(x):
    """f(x) of the module docstring for 0/1 rows x (N, 12)."""
    gram = icosahedron() @ icosahedron().T
    kernel = np.select([np.isclose(gram, 5 ** -0.5), np.isclose(gram, -(5 ** -0.5))], [-0.2, 0.1], 0.0)
    s = 2.0 * np.asarray(x, float) - 1.0
    return s.sum(1) + 0.5 * np.einsum("ni,ij,nj->n", s, kernel, s)  # i<j: half the symmetric sum


def labels():
    """The 4,096 labels, int32: 1 where f(x) > 0."""
    return (rule(patterns()) > 1e-9).astype("int32")


def run_labels(seed, permuted=False):
    """The labels a run trains on: `labels()`, or (`permuted`) a permutation of them drawn once from
    the seed, the control whose labels carry nothing about the input."""
    y = labels()
    return np.random.default_rng(3_000_000 + seed).permutation(y) if permuted else y


def split(seed, train_fraction):
    """`(train, test)` indices of one run: a seeded random `train_fraction` of the 4,096 inputs."""
    order = np.random.default_rng(seed).permutation(PATTERNS)
    n = int(round(train_fraction * PATTERNS))
    return np.sort(order[:n]), np.sort(order[n:])


def _initial_weights(seed, widths):
    rng = np.random.default_rng(2_000_000 + seed)
    weights = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
        w = rng.standard_normal((fan_in, fan_out))
        while np.any(bad := np.abs(w) > 2):  # truncated at 2 std, as keras.initializers.TruncatedNormal
            w[bad] = rng.standard_normal(int(bad.sum()))
        weights += [w / np.sqrt(fan_in), np.zeros(fan_out)]
    return weights


class Members(keras.layers.Layer):
    """K independent dense layers side by side: (batch, K, d_in) -> (batch, K, units); member k
    applies `activations[k]` (one name for all, or one per member)."""

    def __init__(self, units, activations, **kwargs):
        super().__init__(**kwargs)
        self.units, self.activations = units, activations

    def build(self, input_shape):
        k, d = input_shape[-2], input_shape[-1]
        self.kernel = self.add_weight(shape=(k, d, self.units), initializer="zeros", name="kernel")
        self.bias = self.add_weight(shape=(k, self.units), initializer="zeros", name="bias")

    def call(self, x):
        z = keras.ops.einsum("bki,kio->bko", x, self.kernel) + self.bias
        names = sorted(set(self.activations))
        if len(names) == 1:
            return keras.activations.get(names[0])(z)
        out = 0.0  # each member's own activation: a 0/1 mask per activation, (K, 1)
        for name in names:
            mask = np.array([[a == name] for a in self.activations], dtype="float32")
            out = out + mask * keras.activations.get(name)(z)
        return out


def _summed_cross_entropy(y_true, y_pred):
    """Each run's cross-entropy, summed over runs: (batch, K) -> (batch,); Keras averages the batch."""
    ce = keras.losses.sparse_categorical_crossentropy(keras.ops.cast(y_true, "int32"), y_pred)
    return keras.ops.sum(ce, axis=-1)


def build(members, hidden, learning_rate, steps_per_execution):
    """`(model, probe)` for the runs `members`, `[(activation, seed, permuted), ...]`: the K-run model on
    pattern indices (batch, K) and the model returning every layer's activations (hidden layers
    and softmax output), each (batch, K, width)."""
    k, widths = len(members), (BITS, *hidden, 2)
    activations = [a for a, _, _ in members]
    index = keras.Input((k,), dtype="int32", name="pattern")
    table = keras.layers.Embedding(PATTERNS, BITS, trainable=False, name="patterns")
    x, outputs = table(index), []
    for i, units in enumerate(widths[1:]):
        last = i == len(hidden)
        x = Members(units, ["softmax"] * k if last else activations, name="output" if last else f"fc{i + 1}")(x)
        outputs.append(x)
    model = keras.Model(index, x)
    table.set_weights([patterns()])
    per_run = [_initial_weights(s, widths) for _, s, _ in members]
    for j, layer in enumerate(layer for layer in model.layers if isinstance(layer, Members)):
        layer.set_weights([np.stack([w[2 * j] for w in per_run]), np.stack([w[2 * j + 1] for w in per_run])])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=_summed_cross_entropy,
                  steps_per_execution=steps_per_execution)
    return model, keras.Model(index, outputs)


def log_epochs(epochs, points):
    """0 (initial weights), about `points` log-spaced epochs and the last one, as sorted ints."""
    return sorted({0, epochs, *np.unique(np.round(np.geomspace(1, epochs, points)).astype(int)).tolist()})


class Stream:
    """Each run's training indices in its own fresh order every epoch, `epochs` at a time."""

    def __init__(self, seeds, train_sets):
        self.rngs = [np.random.default_rng(1_000_000 + s) for s in seeds]
        self.train_sets = train_sets

    def next(self, epochs):
        cols = [rng.permuted(np.tile(t, (epochs, 1)), axis=1).reshape(-1)  # one fresh order per epoch
                for rng, t in zip(self.rngs, self.train_sets, strict=True)]
        return np.stack(cols, axis=1).astype("int32")  # (epochs * n_train, K)


def train(members, config, on_measure):
    """Trains the runs `members` (`[(activation, seed, permuted), ...]`) together; calls
    `on_measure(epoch, activations, accuracies)` at every measured epoch with each layer's
    activations on all 4,096 inputs, (4096, K, width) per layer, and each run's `(train, test)`
    accuracy on its own labels (`run_labels`). The seed alone sets a run's split, data order and
    initial weights, so the tanh, ReLU and permuted-label runs of one seed are paired. Returns
    the measured epochs."""
    seeds = [s for _, s, _ in members]
    y = np.stack([run_labels(s, p) for _, s, p in members], axis=1)  # (4096, K)
    splits = [split(s, config.train_fraction) for s in seeds]
    stream = Stream(seeds, [tr for tr, _ in splits])
    steps = max(1, config.steps_per_execution)
    model, probe = build(members, tuple(config.hidden), config.learning_rate, steps)
    every = np.tile(np.arange(PATTERNS, dtype="int32")[:, None], (1, len(members)))
    epochs, done = log_epochs(config.epochs, config.log_points), 0
    for epoch in epochs:
        while done < epoch:
            n = min(epoch - done, config.chunk_epochs)
            idx = stream.next(n)
            # K runs in one model, each with its own order (`Stream`): the engine keeps it.
            fit_model(model, idx, np.take_along_axis(y, idx, axis=0), batch_size=config.batch_size, shuffle=False)
            done += n
        acts = [np.asarray(a, np.float32) for a in probe.predict(every, batch_size=PATTERNS, verbose=0)]
        pred = acts[-1].argmax(-1)  # (4096, K)
        acc = [(float(np.mean(pred[tr, k] == y[tr, k])), float(np.mean(pred[te, k] == y[te, k])))
               for k, (tr, te) in enumerate(splits)]
        on_measure(epoch, acts, acc)
    return epochs
