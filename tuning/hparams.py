"""Every trial in TensorBoard's HParams dashboard, written with tensorboardX (no TensorFlow).

Each trial is one run, `<logdir>/<trial_id>`, holding the HParams plugin's
`session_start_info` (the hyperparameter values), its scalars (the per-epoch metrics, which the
dashboard shows as the trial's metric columns) and `session_end_info` (success or failure).
No `experiment` summary is written: TensorBoard then builds the experiment from the union of
all sessions, so trials with different conditional hyperparameters (`q` only for `lq`) and
trials written by different workers all line up without a writer owning the whole table.

Example:
    >>> write_trial("runs/tb", "03", {"learning_rate": 1e-3}, {"val_accuracy": [0.8, 0.85]})
    >>> # tensorboard --logdir runs/tb  -> HPARAMS tab
"""

import math
import os


def _hparam_value(value):
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)


def write_trial(logdir, trial_id, hparams, history, status="COMPLETED", score=None):
    """Writes one trial as an HParams session under `logdir/trial_id`.

    Args:
        logdir: the search's TensorBoard folder.
        trial_id: the KerasTuner trial id (the run's name).
        hparams: `{name: value}` of the trial's active hyperparameters.
        history: `{metric: [value per epoch]}` (e.g. `History.history`); non-finite values are
            skipped, since the dashboard cannot sort them.
        status: the trial's status; anything but "COMPLETED" is shown as a failure.
        score: the objective's best value, written as the scalar `score`.
    """
    from tensorboardX import SummaryWriter
    from tensorboardX.proto.api_pb2 import Status
    from tensorboardX.summary import hparams as hparams_summaries

    values = {k: _hparam_value(v) for k, v in hparams.items() if v is not None}
    _, session_start, session_end = hparams_summaries(values, {})
    if status != "COMPLETED":
        from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

        content = HParamsPluginData.FromString(session_end.value[0].metadata.plugin_data.content)
        content.session_end_info.status = Status.Value("STATUS_FAILURE")
        session_end.value[0].metadata.plugin_data.content = content.SerializeToString()
    with SummaryWriter(os.path.join(logdir, str(trial_id))) as writer:
        writer.file_writer.add_summary(session_start)
        for name, series in (history or {}).items():
            for step, value in enumerate(series):
                if value is not None and math.isfinite(float(value)):
                    writer.add_scalar(name, float(value), step)
        if score is not None and math.isfinite(float(score)):
            writer.add_scalar("score", float(score), 0)
        writer.file_writer.add_summary(session_end)


def read_sessions(logdir):
    """`{run: {"hparams": {...}, "status": str, "scalars": [tags]}}` as TensorBoard sees them."""
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer
    from tensorboard.plugins.hparams import api_pb2, metadata

    mux = EventMultiplexer()
    mux.AddRunsFromDirectory(logdir)
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
