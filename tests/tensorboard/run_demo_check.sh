#!/usr/bin/env bash
# CTest tensorboard.demo_runs: a short examples/tensorboard_demo run, whose runs/ folder is loaded
# with TensorBoard's EventMultiplexer (check_runs.py), and whose PNGs must exist.
#   run_demo_check.sh <tensorboard_demo> <check_runs.py> <work_dir> <build_dir>
set -eu
demo=$1 script=$2 work=$3 build=$4
. "$(dirname "$0")/tb_python.sh" "$build"
rm -rf "$work"
"$demo" --epochs 2 --train-limit 2000 --logdir "$work/runs"
test -s "$work/runs/mlp_curves.png" && test -s "$work/runs/mlp_test_predictions.png"
"$python" "$script" "$work/runs" 2
