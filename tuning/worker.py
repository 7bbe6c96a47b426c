"""A search worker's entry point: `python -m keras_seminar.tuning.worker CONFIG_JSON`.

`tuning.distributed.start_workers` runs it with the chief's `SearchConfig.for_worker()` as JSON
and the `KERASTUNER_*` variables that make this process a worker; JSON keeps the config exact
(ranges stay ranges), so the worker declares the hyperparameters the chief declared.
"""

import sys

from keras_seminar.tuning.config import SearchConfig
from keras_seminar.tuning.search import run

__all__ = ["main"]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("Usage: python -m keras_seminar.tuning.worker CONFIG_JSON", file=sys.stderr)
        return 2
    run(SearchConfig.from_json(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
