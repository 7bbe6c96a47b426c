#!/usr/bin/env bash
# Sets up everything on a fresh machine that has only Python >= 3.10 (3.11 preferred):
# a .venv with the package, both backends (TensorFlow CPU and JAX CPU) and the dev tools,
# then imports and verifies the offline MNIST / Fashion-MNIST copies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
if [ -z "$PY" ]; then echo "setup: no python3 found; install Python 3.11" >&2; exit 1; fi
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || { echo "setup: $PY is older than Python 3.10" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.keras_seminar_installed
want=$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[tensorflow,jax,dev]"
  echo "$want" > "$stamp"
fi
.venv/bin/keras-seminar data prepare
