"""HParams sessions for TensorBoard's HParams dashboard, written with tensorboardX (no TensorFlow).

A session is one run folder holding the HParams plugin's `session_start_info` (the
hyperparameter values), scalars (the metrics the dashboard shows as columns) and
`session_end_info` (success or failure). No `experiment` summary is written: TensorBoard then
builds the table from the union of all sessions, so `keras-seminar train` runs and tuning
trials with different hyperparameters all line up without one writer owning the table.
Scalars in the session's sub-folders (`train/`, `validation/`, as Keras writes them) are shown
too, per group.

Example:
    >>> write_session("runs", "cnn_fashion_mnist_s0", {"learning_rate": 1e-3, "model": "cnn"},
    ...               {"test/accuracy": 0.91})
    >>> read_sessions("runs")["cnn_fashion_mnist_s0"]["status"]
    'STATUS_SUCCESS'
"""

import glob
import math
import numbers
import os

__all__ = ["flatten", "read_sessions", "write_session"]


def _hparam_value(value):
    """A bool, text, or float as it is; an integer as its digits: the plugin's only number type
    is a double, which the dashboard shows as a float (batch size 256.0), so integers (epochs,
    seeds, limits) go as text, shown as written and filtered by value."""
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return float(value)
    return str(value)


def flatten(values, prefix=""):
    """`{"recipe": {"lr": 1}}` -> `{"recipe.lr": 1}`: HParams are flat scalars or strings."""
    flat = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name + "."))
        elif isinstance(value, (list, tuple)):
            flat[name] = str(list(value))
        else:
            flat[name] = value
    return flat


def write_session(logdir, session_id, hparams, metrics, status="COMPLETED", replace=True):
    """Writes one HParams session under `logdir/session_id`.

    Args:
        logdir: the TensorBoard folder (`tensorboard --logdir logdir`).
        session_id: the session's run name (a run name, a trial id).
        hparams: `{name: value}`; nested dicts are flattened to `a.b` names, lists and integers
            become text (see `_hparam_value`); None values are left out.
        metrics: `{tag: value}` for final values or `{tag: [value per epoch]}`; non-finite
            values are skipped, since the dashboard cannot sort them.
        status: "COMPLETED", or anything else for a failed session.
        replace: remove this session's earlier session files first (a run written again after
            resuming shows once, with its latest values); sub-folders are never touched.
    """
    from tensorboardX import SummaryWriter
    from tensorboardX.proto.api_pb2 import Status
    from tensorboardX.summary import hparams as hparams_summaries

    values = {k: _hparam_value(v) for k, v in flatten(hparams).items() if v is not None}
    _, session_start, session_end = hparams_summaries(values, {})
    if status != "COMPLETED":
        from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

        content = HParamsPluginData.FromString(session_end.value[0].metadata.plugin_data.content)
        content.session_end_info.status = Status.Value("STATUS_FAILURE")
        session_end.value[0].metadata.plugin_data.content = content.SerializeToString()
    folder = os.path.join(str(logdir), str(session_id))
    if replace:
        for old in glob.glob(os.path.join(folder, "*.hparams")):
            os.remove(old)
    with SummaryWriter(folder, filename_suffix=".hparams") as writer:
        writer.file_writer.add_summary(session_start)
        for name, series in (metrics or {}).items():
            series = series if isinstance(series, (list, tuple)) else [series]
            for step, value in enumerate(series):
                if value is not None and math.isfinite(float(value)):
                    writer.add_scalar(name, float(value), step)
        writer.file_writer.add_summary(session_end)


def read_sessions(logdir):
    """`{run: {"hparams": {...}, "status": str, "scalars": [tags]}}` as TensorBoard sees them."""
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer
    from tensorboard.plugins.hparams import api_pb2, metadata

    mux = EventMultiplexer()
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    sessions = {}
    for run, tags in mux.PluginRunToTagToContent(metadata.PLUGIN_NAME).items():
        if metadata.SESSION_START_INFO_TAG not in tags:
            continue
        start = metadata.parse_session_start_info_plugin_data(tags[metadata.SESSION_START_INFO_TAG])
        hparams = {k: v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind"))
                   for k, v in start.hparams.items()}
        status = None
        if metadata.SESSION_END_INFO_TAG in tags:
            end = metadata.parse_session_end_info_plugin_data(tags[metadata.SESSION_END_INFO_TAG])
            status = api_pb2.Status.Name(end.status)
        sessions[run] = {"hparams": hparams, "status": status,
                         "scalars": sorted(mux.GetAccumulator(run).Tags()["scalars"])}
    return sessions
