"""PNG plots for the monitors, drawn with matplotlib's Agg backend (no display needed).

Each function takes plain arrays, writes one PNG and returns its path, so the monitors, the
benchmarks and a notebook all draw the same picture from a saved `.npz`.
"""

import numpy as np

from keras_seminar import _io

__all__ = ["figure", "plot_gradient_norms", "plot_information_plane", "plot_lr_range",
           "plot_sparsity", "running_mean", "save"]


def figure(ncols=1, nrows=1, width=5.0, height=3.6, dpi=100):
    """`(fig, axes)`: a matplotlib `Figure` of `nrows x ncols` panels, each `width x height`
    inches at `dpi` dots per inch; `axes` is a flat list, row by row.

    Example:
        >>> fig, (left, right) = figure(ncols=2)
        >>> left.plot([0, 1], [1, 0]); save(fig, "reports/demo.png")
    """
    from matplotlib.figure import Figure

    # `Figure` directly, not pyplot: no global state and no GUI; `savefig` to .png renders with
    # Agg whatever matplotlib's configured backend is.
    fig = Figure(figsize=(width * ncols, height * nrows), dpi=dpi)
    return fig, [fig.add_subplot(nrows, ncols, i + 1) for i in range(nrows * ncols)]


def save(fig, path):
    """Writes `fig` as PNG to `path` (atomically, folders created) and returns the path."""
    fig.tight_layout()
    _io.atomic_write(path, lambda f: fig.savefig(f, format="png"))
    return str(path)


def running_mean(values, window=10):
    """Trailing running mean of `values` (the first points average what exists so far)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return values
    csum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, values.size + 1)
    start = np.maximum(idx - window, 0)
    return (csum[idx] - csum[start]) / (idx - start)


def plot_gradient_norms(path, steps, global_norms, val_error=None, window=10):
    """Goodfellow et al. (2016), Fig. 8.1: gradient norm over time (left), validation error (right)."""
    fig, (left, right) = figure(ncols=2)
    left.plot(steps, global_norms, ".", alpha=0.35, label="gradient norm")
    left.plot(steps, running_mean(global_norms, window), "-", label=f"running mean ({window})")
    left.set(xlabel="training step", ylabel="gradient norm", title="Gradient norm")
    left.legend(loc="best")
    if val_error is not None and len(val_error):
        right.plot(np.arange(1, len(val_error) + 1), val_error, "o-")
    else:
        right.text(0.5, 0.5, "no validation accuracy", ha="center", va="center",
                   transform=right.transAxes)
    right.set(xlabel="epoch", ylabel="classification error", title="Validation error")
    return save(fig, path)


def plot_sparsity(path, epochs, weight_sparsity, activation_sparsity, dead_units):
    """Per-layer weight sparsity, activation sparsity and dead-unit fraction over epochs.

    The last three arguments map layer name -> sequence of fractions (one per epoch).
    """
    fig, axes = figure(ncols=3, width=4.2)
    panels = zip(axes, (weight_sparsity, activation_sparsity, dead_units),
                 ("weights |w| < eps", "activations |a| < eps", "dead units"), strict=True)
    for ax, series, title in panels:
        for layer, values in series.items():
            ax.plot(epochs, values, "o-", label=layer)
        ax.set(xlabel="epoch", ylabel="fraction", title=title, ylim=(-0.02, 1.02))
    if any(weight_sparsity.values()) or any(activation_sparsity.values()):
        axes[0].legend(loc="best", fontsize="small")
    return save(fig, path)


def plot_information_plane(path, ixt, ity, layer_names, epochs=None):
    """The information plane of Shwartz-Ziv & Tishby (2017): I(X;T) vs I(T;Y), coloured by epoch.

    Args:
        ixt, ity: arrays of shape (epochs, layers), in bits.
    """
    ixt, ity = np.atleast_2d(ixt), np.atleast_2d(ity)
    epochs = np.arange(len(ixt)) if epochs is None else np.asarray(epochs)
    fig, (ax,) = figure(width=5.6, height=4.4)
    scatter = None
    for j, name in enumerate(layer_names):
        ax.plot(ixt[:, j], ity[:, j], "-", color="0.7", linewidth=0.8, zorder=1)
        scatter = ax.scatter(ixt[:, j], ity[:, j], c=epochs, cmap="viridis", s=18, zorder=2)
        if len(ixt):
            ax.annotate(name, (ixt[-1, j], ity[-1, j]), fontsize="small")
    if scatter is not None:
        fig.colorbar(scatter, ax=ax, label="epoch")
    ax.set(xlabel="I(X;T) [bits]", ylabel="I(T;Y) [bits]", title="Information plane")
    return save(fig, path)


def plot_lr_range(path, lrs, losses, smoothed=None, suggested_lr=None):
    """Loss against learning rate on a log axis (Smith 2017, "LR range test")."""
    fig, (ax,) = figure()
    ax.plot(lrs, losses, ".", alpha=0.4, label="loss")
    if smoothed is not None:
        ax.plot(lrs, smoothed, "-", label="smoothed")
    if suggested_lr is not None:
        ax.axvline(suggested_lr, color="C3", linestyle="--", label=f"suggested {suggested_lr:.2g}")
    ax.set_xscale("log")
    ax.set(xlabel="learning rate", ylabel="loss", title="LR range test")
    ax.legend(loc="best")
    return save(fig, path)
