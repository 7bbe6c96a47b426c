"""TensorFlow's start-up notices, filtered the way `TF_CPP_MIN_LOG_LEVEL` asks.

TensorFlow 2.21 prints its oneDNN notice from a static initializer of two shared libraries
(`libtensorflow_framework.so.2` and the profiler plugin `_pywrap_profiler_plugin.so`, both
loaded by `import tensorflow`), before its logging reads `TF_CPP_MIN_LOG_LEVEL`: so every
command printed it twice, whatever the setting. `import_tensorflow_quietly()` imports TensorFlow
with the process's stderr (fd 2) captured, then writes back every captured line except those
below the requested level (INFO at level >= 1, WARNING at >= 2) and absl's "before
InitializeLog" banner. Numerics are untouched (oneDNN stays as TensorFlow chose), a user's own
`TF_CPP_MIN_LOG_LEVEL=0` shows everything, and with another backend nothing happens.
"""

import importlib.util
import os
import re
import sys
import tempfile

__all__ = ["filter_lines", "import_tensorflow_quietly"]

_BANNER = "All log messages before absl::InitializeLog() is called are written to STDERR"
_SEVERITY = re.compile(r"^([IWEF])\d{4} ")


def _backend():
    from keras_seminar.backend.choice import configured

    return configured() or "tensorflow"


def filter_lines(text, level):
    """`text` without absl's banner and the lines (with their continuations) under `level`."""
    hidden = {1: "I", 2: "IW", 3: "IWE"}.get(level, "")
    kept, dropping = [], False
    for line in text.splitlines(keepends=True):
        match = _SEVERITY.match(line)
        if match:
            dropping = match.group(1) in hidden
        elif _BANNER in line:
            dropping = bool(hidden)
        if not dropping:
            kept.append(line)
    return "".join(kept)


def import_tensorflow_quietly():
    """Imports TensorFlow (when it is the Keras backend) with its start-up notices filtered."""
    if "tensorflow" in sys.modules or _backend() != "tensorflow":
        return
    try:
        level = int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
        if level < 1 or importlib.util.find_spec("tensorflow") is None:
            return
        sys.stderr.flush()
        saved = os.dup(2)
    except (ValueError, OSError, AttributeError):
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            sys.stderr.write(filter_lines(captured.read().decode(errors="replace"), level))
            sys.stderr.flush()
