#!/usr/bin/env bash
# Lints, then runs the test suite once per backend: TensorFlow (CPU), then JAX (CPU).
# Extra arguments go to pytest, e.g. `bash .ci/test.sh tests/datasets -x`.
set -uo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=2
.venv/bin/ruff check keras_seminar tuning tests benchmarks experiments || exit 1
status=0
for backend in tensorflow jax; do
  echo "=== pytest on the $backend backend"
  KERAS_BACKEND=$backend .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
  rc=$?
  if [ $rc -eq 5 ]; then rc=0; fi  # pytest: no tests collected
  if [ $rc -ne 0 ]; then status=$rc; fi
done
exit $status
