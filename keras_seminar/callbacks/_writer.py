"""The run writer: tensorboardX `SummaryWriter`s of one run folder, one per split.

Shared by `TensorBoard` and the monitors (through `Monitor`), so no callback imports another.
tensorboardX needs only numpy and protobuf, so it writes on every Keras backend.
"""

import itertools
import os


class RunWriter:
    """The tensorboardX writers of one run folder, one per split ("train", "validation", "").

    Opened lazily, so a callback that never logs leaves no empty event files. Each file gets a
    process-unique suffix: tensorboardX names files by the second, and two writers opened in the
    same second on one folder would otherwise overwrite each other.

    Example:
        >>> writer = RunWriter("runs/demo")
        >>> writer.scalars({"gradient_norm/global": 1.5}, step=10)
        >>> writer.close()
    """

    _counter = itertools.count()

    def __init__(self, log_dir):
        self.log_dir = str(log_dir)
        self._writers = {}

    def __call__(self, split="train"):
        if split not in self._writers:
            from tensorboardX import SummaryWriter

            suffix = f".{os.getpid()}.{next(RunWriter._counter)}"
            self._writers[split] = SummaryWriter(logdir=os.path.join(self.log_dir, split),
                                                 flush_secs=10, filename_suffix=suffix)
        return self._writers[split]

    def scalars(self, values, step, split="train"):
        """Logs `{tag: value}` at `step` under `split`."""
        for tag, value in values.items():
            self(split).add_scalar(tag, float(value), step)

    def flush(self):
        for w in self._writers.values():
            w.flush()

    def close(self):
        for w in self._writers.values():
            w.close()
        self._writers = {}
