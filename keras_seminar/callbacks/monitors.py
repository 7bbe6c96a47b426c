"""`make_monitors`: the monitoring callbacks the CLI's `--monitors` flag asks for, by name."""

from keras_seminar.callbacks._probes import check_probe
from keras_seminar.callbacks.gradient_norms import GradientNormMonitor
from keras_seminar.callbacks.information_plane import InformationPlane
from keras_seminar.callbacks.sparsity import SparsityMonitor
from keras_seminar.callbacks.tensorboard import TensorBoard
from keras_seminar.errors import UsageError

__all__ = ["make_monitors", "MONITORS"]

MONITORS = ("gradients", "sparsity", "infoplane", "histograms", "filters")


def make_monitors(names, log_dir, probe_x, probe_y, **options):
    """Monitoring callbacks for `names`, all writing into the run folder `log_dir`.

    Args:
        names: a subset of MONITORS, as a list or a comma-separated string ("gradients,sparsity").
        log_dir: the run folder (the same one the main TensorBoard callback writes).
        probe_x, probe_y: a fixed sample (e.g. 512 validation examples) the monitors measure on.
        **options: `every_n_steps` (gradients, default 100), `gradient_batch` (examples of the
            probe used for gradients, default 128), `eps` (sparsity, default 1e-3),
            `infoplane_layers` (default: the hidden layers at most `infoplane_max_width` units
            wide), `infoplane_max_width` (default: the probe's size; None: every hidden layer),
            `bins` (3), `bin_range` (None: per layer and epoch; e.g. (-1, 1) for tanh),
            `estimator` ("binning"), `control` (False: the random control beside each
            estimate), `every_n_epochs` (sparsity and information plane, 1),
            `histogram_freq` (histograms and filters, 1), `verbose` (0).

    Returns:
        A list of callbacks; "histograms" and "filters" share one `TensorBoard` that writes no
        scalars, so it can sit beside the main TensorBoard callback on the same folder.

    Example:
        >>> callbacks = make_monitors("gradients,infoplane", "runs/cnn_s0", x_val[:512], y_val[:512])
    """
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    names = list(names)
    unknown = sorted(set(names) - set(MONITORS))
    if unknown:
        raise UsageError(f"Unknown monitors {unknown}. Expected names from {MONITORS}. Received: names={names!r}")
    allowed = {"every_n_steps", "gradient_batch", "eps", "infoplane_layers", "infoplane_max_width",
               "bins", "bin_range", "estimator", "control", "every_n_epochs", "histogram_freq",
               "verbose"}
    if set(options) - allowed:
        raise UsageError(f"Unknown options {sorted(set(options) - allowed)}. Expected some of {sorted(allowed)}.")
    check_probe(probe_x, probe_y, "probe_x", "probe_y")
    verbose = options.get("verbose", 0)
    every_n_epochs = options.get("every_n_epochs", 1)
    n = options.get("gradient_batch", 128)
    callbacks = []
    if "gradients" in names:
        callbacks.append(GradientNormMonitor(probe_x[:n], probe_y[:n], options.get("every_n_steps", 100),
                                             log_dir=log_dir, verbose=verbose))
    if "sparsity" in names:
        callbacks.append(SparsityMonitor(probe_x, eps=options.get("eps", 1e-3), every_n_epochs=every_n_epochs,
                                         log_dir=log_dir, verbose=verbose))
    if "infoplane" in names:
        # Defaults that do not saturate on a real CNN: on the shipped fast_cnn with 512 probe
        # images every conv layer (576-12544 units) gives the ceiling I(X;T) = log2(512) = 9 bits
        # at any bin count, fc1 (128 units) 9.0 at 30 bins and 8.3 at 3 (3 bins per unit, as the
        # information_plane experiment's MLP).
        callbacks.append(InformationPlane(options.get("infoplane_layers"), probe_x, probe_y,
                                          max_width=options.get("infoplane_max_width", len(probe_x)),
                                          bins=options.get("bins", 3), bin_range=options.get("bin_range"),
                                          control=options.get("control", False),
                                          estimator=options.get("estimator", "binning"),
                                          every_n_epochs=every_n_epochs, log_dir=log_dir, verbose=verbose))
    if "histograms" in names or "filters" in names:
        histograms = "histograms" in names
        callbacks.append(TensorBoard(
            log_dir, histogram_freq=options.get("histogram_freq", 1) if histograms else 0,
            write_images="filters" in names, probe_data=(probe_x[:n], probe_y[:n]) if histograms else None,
            write_text=False, write_scalars=False))
    return callbacks
