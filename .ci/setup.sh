#!/usr/bin/env bash
# Sets up a fresh machine that has only Python >= 3.10 (3.11 preferred). Each environment is
# installed the way a user of that backend would install the package:
#   .venv        TensorFlow CPU + JAX CPU + dev tools (the CLI, command A, the TensorFlow pass)
#   .venv-jax    `pip install -e ".[jax,dev]"`: no TensorFlow (the JAX pass)
#   .venv-torch  the CPU-only torch wheel, then `pip install -e ".[torch,dev]"`: no TensorFlow
# By default only `.venv`, all that command A (`bash .ci/setup.sh && .venv/bin/keras-seminar
# train`) needs; command B (`.ci/run`) asks for all three with
# SETUP_ENVS="venv venv-jax venv-torch". Then imports and verifies the offline MNIST /
# Fashion-MNIST copies. Safe to run again: an environment is reinstalled only when setup.cfg,
# pyproject.toml or this script change.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
if [ -z "$PY" ]; then echo "setup: no python3 found; install Python 3.11" >&2; exit 1; fi
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || { echo "setup: $PY is older than Python 3.10" >&2; exit 1; }
# PyPI's plain `torch` is a CUDA build of several GB; this exact release has a CPU-only wheel
# that pip finds beside the index on the CI machine (its find-links). Checked below.
TORCH_CPU=${TORCH_CPU:-torch==2.13.0}
want=$(cat setup.cfg pyproject.toml .ci/setup.sh | sha256sum | cut -d' ' -f1)
pip_install() { "$1/bin/python" -m pip install -q --disable-pip-version-check "${@:2}"; }

make_env() {  # make_env DIR EXTRAS [PACKAGE_TO_INSTALL_FIRST]
  local dir=$1 extras=$2 first=${3:-} stamp=$1/.keras_seminar_installed
  [ -x "$dir/bin/python" ] || "$PY" -m venv "$dir"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  echo "setup: installing $dir (.[$extras])"
  pip_install "$dir" --upgrade pip
  if [ -n "$first" ]; then
    # Ask pip which file it would take before downloading anything: a torch that is not a
    # `+cpu` build is a multi-GB CUDA download, refused here rather than after it.
    case $first in torch*)
      local report  # captured, not piped into `grep -q`: under pipefail an early exit is a failure
      report=$(pip_install "$dir" --dry-run --no-deps --ignore-installed --report - "$first")
      case $report in *+cpu*) ;; *)
        echo "setup: pip would install a CUDA build for $first; set TORCH_CPU to a CPU wheel" >&2
        exit 1 ;;
      esac ;;
    esac
    pip_install "$dir" "$first"
  fi
  pip_install "$dir" -e ".[$extras]"
  echo "$want" > "$stamp"
}

envs=${SETUP_ENVS:-venv}
setup_env() {
  case $1 in
    venv) make_env .venv tensorflow,jax,dev ;;
    venv-jax) make_env .venv-jax jax,dev ;;
    venv-torch)
      make_env .venv-torch torch,dev "$TORCH_CPU"
      # A CUDA build would still pass the tests, slowly and after a multi-GB download: refuse it.
      .venv-torch/bin/python -c 'import sys, torch; sys.exit(torch.version.cuda is not None)' \
        || { echo "setup: .venv-torch holds a CUDA build of torch; set TORCH_CPU to a CPU wheel" >&2
             rm -f .venv-torch/.keras_seminar_installed; exit 1; } ;;
    *) echo "setup: unknown environment $1 in SETUP_ENVS" >&2; exit 1 ;;
  esac
}
# The environments install side by side, so downloads and unpacking overlap (measured in
# benchmarks/results/cpu_measurements.md); each one's output is shown when it ends.
logs=$(mktemp -d)
pids=()
for env in $envs; do
  ( setup_env "$env" ) >"$logs/$env.log" 2>&1 &
  pids+=("$!")
done
failed=0
i=0
for env in $envs; do
  if ! wait "${pids[$i]}"; then failed=1; echo "setup: .$env failed:" >&2; fi
  cat "$logs/$env.log"
  i=$((i + 1))
done
rm -rf "$logs"
if [ $failed -ne 0 ]; then exit 1; fi
for env in venv-jax venv-torch; do  # these stand for users without TensorFlow
  case " $envs " in *" $env "*)
    if ".$env/bin/python" -c 'import tensorflow' 2>/dev/null; then
      echo "setup: .$env has TensorFlow; it must not" >&2; exit 1
    fi ;;
  esac
done
first=${envs%% *}  # the data are shared (~/.keras_seminar/data): one environment prepares them
case $first in venv) backend=tensorflow ;; venv-jax) backend=jax ;; *) backend=torch ;; esac
KERAS_BACKEND=$backend ".$first/bin/keras-seminar" data prepare
