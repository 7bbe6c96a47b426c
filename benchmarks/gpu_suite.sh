#!/usr/bin/env bash
# Every GPU figure the README still lacks, in parts that each fit one 10-minute device call.
#   bash benchmarks/gpu_suite.sh speed   # issue 9: Fashion-MNIST / MNIST time-to-accuracy (speedrun,
#                                        # 3 seeds each) and ResNet-20 vs plain Keras, side by side
#   bash benchmarks/gpu_suite.sh zoo     # issue 5: the pending rows (Fashion-MNIST: resnet20 wrn16_4
#                                        # nin; MNIST: nin), seed 0 (zoo1: seed 1)
#   bash benchmarks/gpu_suite.sh long    # issue 9: Fashion-MNIST >= 96% in <= 10 minutes (WRN-16-4)
# JSON and logs go to $OUT (the device tool's folder that comes back), else benchmarks/results/gpu.
# SMOKE=1 runs each command at smoke size on the CPU, to check the suite itself.
#
# On the device machine (JAX + CUDA, no TensorFlow, no Keras), once per session here:
#   bash ../shared/tools/device-wheels.sh tensorboardX==2.6.2.2 absl-py==2.1.0 rich==13.9.4 \
#     markdown-it-py==3.0.0 mdurl==0.1.2 pygments==2.18.0 h5py==3.12.1
#   mkdir -p .data && cp ~/.keras_seminar/data/*.npz ~/.keras_seminar/data/*.json .data/
#   echo /.data/ >> .git/info/exclude
# then run(carry=[".whl", ".data"], command=
#   "python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade
#    --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD KERAS_BACKEND=jax
#    KERAS_SEMINAR_DATA=$PWD/.data && bash benchmarks/gpu_suite.sh speed")
set -euo pipefail
cd "$(dirname "$0")/.."
part=${1:?"usage: gpu_suite.sh speed|zoo|zoo1|long"}
out=${OUT:-benchmarks/results/gpu}
mkdir -p "$out"
py=python3
[ -x .venv/bin/python ] && py=.venv/bin/python
smoke=()
[ -n "${SMOKE:-}" ] && smoke=(--smoke)
fast=(--fused --precision mixed_bfloat16 --compile-cache "${TMPDIR:-/tmp}/keras_seminar_xla")
speed() { "$py" benchmarks/speed.py "$@" "${smoke[@]}" 2>&1 | grep -v "^I0000\|^WARNING: All" | tail -n 40; }

case $part in
  speed)
    speed --model speedrun --dataset fashion_mnist --seeds 0 1 2 "${fast[@]}" --out "$out/speed_fashion.json"
    speed --model speedrun --dataset mnist --seeds 0 1 2 "${fast[@]}" --out "$out/speed_mnist.json"
    speed --model resnet20 --epochs 10 --seeds 0 --compare-plain "${fast[@]}" --out "$out/speed_resnet20.json"
    ;;
  zoo | zoo1)
    seed=0; [ "$part" = zoo1 ] && seed=1
    # The zoo rows still pending (conv Maxout and ResNet-20 on MNIST were trained on the CPU);
    # WRN has no MNIST target.
    fashion="resnet20 wrn16_4 nin" mnist="nin" extra=""
    if [ -n "${SMOKE:-}" ]; then
      fashion="resnet20 nin" mnist="nin" extra="--epochs 1 --train-limit 512 --test-limit 256"
      export ZOO_RUNS_DIR="$out/smoke_runs" ZOO_SHIPPED_DIR="$out/smoke_models"
    fi
    export ZOO_ARGS="--fused --precision mixed_bfloat16 $extra"
    { bash benchmarks/zoo.sh "$fashion" fashion_mnist "$seed" && bash benchmarks/zoo.sh "$mnist" mnist "$seed"; } \
      > "$out/zoo_s$seed.log" 2>&1 || { tail -n 40 "$out/zoo_s$seed.log"; exit 1; }
    # One archive (the device tool brings back at most 8 files): the trained models and cards
    # (seed 0: the ones to ship in saved_models/) and every run's metrics.
    tar czf "$out/zoo_s$seed.tar.gz" $(for m in $fashion; do for d in fashion_mnist mnist; do  # MNIST's models: a subset
        ls "${ZOO_SHIPPED_DIR:-saved_models}/${m}_${d}".* "${ZOO_RUNS_DIR:-runs/zoo}/models/${m}_${d}_s$seed".* \
           "${ZOO_RUNS_DIR:-runs/zoo}/${m}_${d}"*/metrics.json 2>/dev/null; done; done)
    tail -n 3 "$out/zoo_s$seed.log"
    ;;
  long)
    speed --model wrn16_4 --dataset fashion_mnist --epochs 60 --seeds 0 "${fast[@]}" --out "$out/speed_wrn_long.json"
    ;;
  *) echo "unknown part $part: expected speed, zoo, zoo1 or long" >&2; exit 2 ;;
esac
