#!/usr/bin/env bash
# Lints, then tests once per backend, each in the environment its users would have
# (made by .ci/setup.sh):
#   tensorflow  the whole suite, in .venv (TensorFlow + JAX)
#   jax         the whole suite but the backend-free modules below, in .venv-jax (no TensorFlow:
#               tests marked `tensorflow` skip)
#   torch       the focused subset below, in .venv-torch (CPU torch, no TensorFlow)
# TEST_BACKENDS="jax torch" picks passes. Extra arguments go to pytest, e.g.
# `bash .ci/test.sh tests/datasets -x`; paths among them replace the torch subset.
set -uo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=2
# What the package promises on torch, kept to a few minutes on 2 cores: layers, regularizers,
# constraints, the backend dispatch, the LR schedule, saving round trips, attacks, TensorBoard
# writing and one real epoch of training.
TORCH_SUBSET=(
  tests/layers
  tests/test_regularizers.py
  tests/test_regularizer_aliases.py
  tests/test_constraints.py
  tests/test_backend.py
  tests/test_schedules.py
  tests/test_saving.py
  tests/test_adversarial.py
  tests/callbacks/test_tensorboard.py
  tests/test_one_epoch.py
  tests/test_reshuffle.py
)
# Pure NumPy / Python: data files, statistics, config round trips, the import-cycle check. They
# pass or fail alike on every backend, so the TensorFlow pass alone runs them.
BACKEND_FREE=(
  tests/datasets
  tests/experiments/test_stats.py
  tests/experiments/test_config.py
  tests/experiments/test_sparsity_render.py
  tests/experiments/test_gradient_norms_report.py
  tests/experiments/test_reproduce.py
  tests/tuning/test_config.py
  tests/callbacks/test_imports.py
)
.venv/bin/ruff check keras_seminar tuning tests benchmarks experiments || exit 1

has_paths=0
for arg in "$@"; do case $arg in -*) ;; *) has_paths=1 ;; esac; done
# The passes run side by side (TEST_PARALLEL=0: one after another): much of a pass is one Python
# thread (collection, tracing, compiling, fresh processes), so two share 2 cores well. Each
# pass writes its own log and temp folder; a log is shown whole when its pass ends.
logs=$(mktemp -d)
run_pass() {  # run_pass BACKEND: one pytest session in that backend's environment
  local backend=$1 venv subset=()
  shift
  case $backend in
    tensorflow) venv=.venv ;;
    jax) venv=.venv-jax; for path in "${BACKEND_FREE[@]}"; do subset+=(--ignore "$path"); done ;;
    torch) venv=.venv-torch; subset=("${TORCH_SUBSET[@]}") ;;
    *) echo "test: unknown backend $backend in TEST_BACKENDS" >&2; return 1 ;;
  esac
  if [ $has_paths -eq 1 ]; then subset=(); fi
  if [ ! -x $venv/bin/python ]; then
    echo "test: $venv is missing; run .ci/setup.sh first" >&2; return 1
  fi
  echo "=== pytest on the $backend backend ($venv)"
  local start=$SECONDS rc
  KERAS_BACKEND=$backend $venv/bin/python -m pytest -q -p no:cacheprovider \
    --basetemp "$logs/tmp-$backend" "${subset[@]}" "$@"
  rc=$?
  echo "=== $backend: exit $rc after $((SECONDS - start)) s"
  if [ $rc -eq 5 ]; then rc=0; fi  # pytest: no tests collected
  return $rc
}
status=0
pids=()
backends=(${TEST_BACKENDS:-tensorflow jax torch})
for backend in "${backends[@]}"; do
  if [ "${TEST_PARALLEL:-1}" = 0 ]; then
    run_pass "$backend" "$@" || status=1
  else
    run_pass "$backend" "$@" > "$logs/$backend.log" 2>&1 &
    pids+=($!)
  fi
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || status=1
  cat "$logs/${backends[$i]}.log"
done
rm -rf "$logs"
exit $status
