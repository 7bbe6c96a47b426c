#!/usr/bin/env bash
# Every GPU figure the README still lacks (issue 36), in parts that each fit one device call.
# The device gives 15 minutes a session (start-up included), at most 10 a call: run `first`,
# and the other parts in later calls or sessions.
#   bash benchmarks/gpu_suite.sh first   # ~8 min, most important first, each step cut off at its
#       # share of BUDGET seconds (default 500) so one slow step cannot eat the call:
#       # (1) Fashion-MNIST >= 94.0% in <= 10 s training / <= 30 s cold, speedrun, 3 seeds;
#       # (2) MNIST >= 99.5% in <= 5 s, 3 seeds; (3) ResNet-20 img/s vs plain Keras, same process;
#       # (7) fused vs unfused img/s; (6) 4 tuning workers on one GPU vs 1, trials/hour;
#       # every shipped (CPU-trained) model evaluated on the GPU beside its card
#   bash benchmarks/gpu_suite.sh long    # (4) Fashion-MNIST >= 96% in <= 10 min (WRN-16-4, 60 epochs)
#   bash benchmarks/gpu_suite.sh zoo     # (5) the Wide ResNet rows, seed 0 models + cards (zoo1: seed 1);
#       # every other deep row (ResNet-20, NiN, DenseNet-BC) was trained on the CPU
# JSON and logs go to $OUT (the device tool's folder that comes back), else benchmarks/results/gpu;
# `first` also writes $OUT/summary.txt (one line per step: seconds, exit status).
# SMOKE=1 runs each command at smoke size on the CPU, to check the suite itself (in a
# TensorFlow-free JAX env like the device's: KERAS_BACKEND=jax .venv-jax/bin/...).
#
# On the device machine (JAX + CUDA, no TensorFlow, no Keras), once per session here:
#   bash ../shared/tools/device-wheels.sh tensorboardX==2.6.2.2 absl-py==2.1.0 rich==13.9.4 \
#     markdown-it-py==3.0.0 mdurl==0.1.2 pygments==2.18.0 h5py==3.12.1
#   .venv/bin/pip wheel -q --no-deps -w .whl .      # this package (the tuning workers import it)
#   mkdir -p .data && cp ~/.keras_seminar/data/*.npz ~/.keras_seminar/data/*.json .data/
#   echo /.data/ >> .git/info/exclude
# then run(carry=[".whl", ".data"], timeout_s=570, command=
#   "python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade
#    --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site KERAS_BACKEND=jax
#    KERAS_SEMINAR_DATA=$PWD/.data && bash benchmarks/gpu_suite.sh first")
set -uo pipefail
cd "$(dirname "$0")/.."
part=${1:?"usage: gpu_suite.sh first|long|zoo|zoo1"}
out=${OUT:-benchmarks/results/gpu}
mkdir -p "$out"
py=python3
[ -x .venv/bin/python ] && [ -z "${PYTHONPATH:-}" ] && py=.venv/bin/python
[ -n "${PY:-}" ] && py=$PY
smoke=() seeds=(0 1 2) precision=mixed_bfloat16
# smoke: one seed, float32 (bfloat16 on a CPU runs at a few img/s); the same flags otherwise
[ -n "${SMOKE:-}" ] && smoke=(--smoke) seeds=(0) precision=float32
fast=(--fused --precision "$precision" --compile-cache "${TMPDIR:-/tmp}/keras_seminar_xla")
quiet() { grep -v "^I0000\|^WARNING: All\|^W0000" | tail -n "${1:-40}"; }
speed() { "$py" benchmarks/speed.py "$@" "${smoke[@]}" 2>&1 | quiet; }

export PYTHONUNBUFFERED=1  # a step cut off by `timeout` still leaves its log
scale=1; [ -n "${SMOKE:-}" ] && scale=4  # smoke size on a (shared) CPU compiles slower than it trains
deadline=$((SECONDS + ${BUDGET:-$((500 * scale))}))
# step NAME SECONDS CMD...: one figure, its output in $OUT/NAME.log, cut off after SECONDS or
# at the deadline, whichever comes first; the suite goes on to the next step either way.
step() {
  local name=$1 secs=$(($2 * scale)) left=$((deadline - SECONDS)) start=$SECONDS rc
  shift 2
  [ "$secs" -gt "$left" ] && secs=$left
  if [ "$secs" -le 5 ]; then echo "$name: skipped (budget spent)" | tee -a "$out/summary.txt"; return; fi
  echo "=== $name (at most ${secs}s, $(date +%T))"
  timeout "$secs" "$@" > "$out/$name.log" 2>&1; rc=$?
  quiet 15 < "$out/$name.log"
  echo "$name: $((SECONDS - start)) s, exit $rc$([ $rc = 124 ] && echo ' (cut off)')" | tee -a "$out/summary.txt"
}

case $part in
  first)
    : > "$out/summary.txt"
    "$py" -c "import jax; print('jax', jax.__version__, jax.devices())" 2>&1 | quiet 2 | tee -a "$out/summary.txt"
    tiny=(); [ -n "${SMOKE:-}" ] && tiny=(--limit 64 --models softmax_mnist resnet20_mnist)
    step speed_fashion 120 "$py" benchmarks/speed.py --model speedrun --dataset fashion_mnist --seeds "${seeds[@]}" \
      "${fast[@]}" "${smoke[@]}" --out "$out/speed_fashion.json"
    step speed_mnist 80 "$py" benchmarks/speed.py --model speedrun --dataset mnist --seeds "${seeds[@]}" \
      "${fast[@]}" "${smoke[@]}" --out "$out/speed_mnist.json"
    step speed_resnet20 110 "$py" benchmarks/speed.py --model resnet20 --epochs 5 --seeds 0 --compare-plain \
      "${fast[@]}" "${smoke[@]}" --out "$out/speed_resnet20.json"
    step fused 70 "$py" benchmarks/speed.py --model cnn --epochs 3 --seeds 0 --compare-unfused \
      "${fast[@]}" "${smoke[@]}" --out "$out/speed_fused.json"
    workers=(--model cnn --train-limit 10000 --trials 8); [ -n "${SMOKE:-}" ] && workers=(--smoke)
    step tuning 150 "$py" benchmarks/tuning_bench.py --workers-only "${workers[@]}" --out "$out/tuning_gpu.json"
    step pretrained 60 "$py" benchmarks/pretrained_eval.py "${tiny[@]}" --out "$out/pretrained_gpu.json"
    cat "$out/summary.txt"
    ;;
  long)
    speed --model wrn16_4 --dataset fashion_mnist --epochs 60 --seeds 0 "${fast[@]}" --out "$out/speed_wrn_long.json"
    ;;
  zoo | zoo1)
    seed=0; [ "$part" = zoo1 ] && seed=1
    models="wrn16_4 wrn28_10" extra=""  # no MNIST target for the Wide ResNets
    if [ -n "${SMOKE:-}" ]; then
      models="wrn16_4" extra="--epochs 1 --train-limit 512 --test-limit 256"
      export ZOO_RUNS_DIR="$out/smoke_runs" ZOO_SHIPPED_DIR="$out/smoke_models"
    fi
    export ZOO_ARGS="--fused --precision $precision $extra"
    bash benchmarks/zoo.sh "$models" fashion_mnist "$seed" > "$out/zoo_s$seed.log" 2>&1 \
      || { tail -n 40 "$out/zoo_s$seed.log"; exit 1; }
    # One archive (the device tool brings back few files): the trained models and cards
    # (seed 0: the ones to ship in saved_models/) and every run's metrics.
    tar czf "$out/zoo_s$seed.tar.gz" $(for m in $models; do
        ls "${ZOO_SHIPPED_DIR:-saved_models}/${m}_fashion_mnist".* "${ZOO_RUNS_DIR:-runs/zoo}/models/${m}_fashion_mnist_s$seed".* \
           "${ZOO_RUNS_DIR:-runs/zoo}/${m}_fashion_mnist"*/metrics.json 2>/dev/null; done)
    tail -n 3 "$out/zoo_s$seed.log"
    ;;
  *) echo "unknown part $part: expected first, long, zoo or zoo1" >&2; exit 2 ;;
esac
