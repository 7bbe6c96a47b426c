#!/usr/bin/env bash
# Trains the model zoo with each model's recipe, as the README's accuracy table reports it.
# Seed 0 is shipped as saved_models/<model>_<dataset>.keras (slim: no optimizer state; no seed
# suffix, so `keras-seminar train`'s own saved_models/<model>_<dataset>_s0.keras never replaces
# it); other seeds go to runs/zoo/models.
#   bash benchmarks/zoo.sh "softmax cnn lenet5 lstm maxout_mlp" "fashion_mnist mnist" "0 1"
# then: python benchmarks/zoo_table.py  (the README table from the model cards / metrics)
# Extra `keras-seminar train` options for every run go in $ZOO_ARGS, e.g. on a GPU:
#   ZOO_ARGS="--fused --precision mixed_bfloat16" bash benchmarks/zoo.sh "resnet20 nin" mnist "0 1"
set -euo pipefail
cd "$(dirname "$0")/.."
models=${1:-"softmax cnn lenet5 lstm maxout_mlp"}
datasets=${2:-"fashion_mnist mnist"}
seeds=${3:-"0 1"}
runs=${ZOO_RUNS_DIR:-runs/zoo} shipped=${ZOO_SHIPPED_DIR:-saved_models}  # elsewhere for smoke runs
cli=(.venv/bin/keras-seminar)
[ -x "${cli[0]}" ] || cli=(python3 -m keras_seminar)  # e.g. the GPU machine: no .venv there
for seed in $seeds; do
  for dataset in $datasets; do
    for model in $models; do
      dir=$runs/models name=${model}_${dataset}_s${seed}
      if [ "$seed" = 0 ]; then dir=$shipped name=${model}_${dataset}; fi
      echo "=== $model $dataset seed $seed ($(date +%T))"
      "${cli[@]}" train --model "$model" --dataset "$dataset" --seed "$seed" \
        --run-name "$name" --runs-dir "$runs" --models-dir "$dir" --slim --quiet ${ZOO_ARGS:-}
    done
  done
done
