#!/usr/bin/env bash
# Runs every comparison and prints ratio tables:
#   1. training epochs of the seed MLP and CNN and batch-1 MLP latency: nabla (train_nabla),
#      libtorch's C++ frontend (train_libtorch) and PyTorch (train_torch.py), one process per
#      (side, model, threads), 5 timed epochs each, medians; table by train_table.py;
#   2. per-op overhead, matmul and elementwise kernels (Google Benchmark, 5 repetitions, medians);
#   3. deployment: bundle load time and batch-1 latency vs TorchScript in libtorch (deploy_bench).
#   bench/run_all.sh [build-dir]            (default: build-bench, as `make bench` configures it)
# Environment:
#   BENCH_ONLY=train|kernels|deploy   run one part only
#   BENCH_THREADS="1 2"        thread counts of the training runs ("best" = each side's best of them)
#   BENCH_REPS=5               timed epochs per run;  BENCH_ROUNDS=1: repeat the whole training set
#                              of runs, interleaving the sides (the table pools every epoch)
#   BENCH_CNN_LIMIT=6400       samples per CNN epoch (0: all 60000; PyTorch takes ~30 s per full one)
#   BENCH_MLP_LIMIT=0          samples per MLP epoch (0: all 60000)
#   BENCH_TIMEOUT=600          seconds one run may take; a run killed by it leaves its cell empty
#                              (2-thread runs on a machine whose other jobs keep both cores busy can
#                              slow down 100-fold: every parallel region waits for a descheduled thread)
#   BENCH_RESULTS=train.txt    file under <build>/bench-results for the RESULT lines; the table is
#                              made from every train*.txt there, so runs with other settings add up
#   BENCH_FILTER=matmul        passes --benchmark_filter to the kernel benchmarks
#   PYTHON=/usr/bin/python3    the interpreter with Debian's python3-torch
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build-bench}"
out="$build/bench-results"
mkdir -p "$out"
py="${PYTHON:-/usr/bin/python3}"
threads="${BENCH_THREADS:-1 2}"
reps="${BENCH_REPS:-5}"
rounds="${BENCH_ROUNDS:-1}"
cnn_limit="${BENCH_CNN_LIMIT:-6400}"
mlp_limit="${BENCH_MLP_LIMIT:-0}"
run_timeout="${BENCH_TIMEOUT:-600}"
# Timings are only meaningful on an otherwise idle machine: say how idle it was.
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

if [ "${BENCH_ONLY:-train}" = train ]; then
  res="$out/${BENCH_RESULTS:-train.txt}"
  : > "$res"
  run() {  # run <impl> <args...>: one process, its RESULT line appended to $res
    local impl="$1"; shift
    local cmd
    case "$impl" in
      nabla) cmd=("$build/bench/train_nabla") ;;
      libtorch) cmd=("$build/bench/train_libtorch") ;;
      pytorch) cmd=("$py" "$here/train_torch.py") ;;
    esac
    { timeout "$run_timeout" "${cmd[@]}" "$@" || echo "  (exit status $?: timed out or failed)"; } | tee -a "$res" |
      sed -n -e 's/^RESULT \(.\{0,160\}\).*/  \1.../p' -e '/^  (exit/p'
  }
  for round in $(seq "$rounds"); do
    for t in $threads; do
      for impl in nabla libtorch pytorch; do
        echo "=== round $round: $impl mlp, $t thread(s)"
        run "$impl" --model mlp --threads "$t" --reps "$reps" --limit "$mlp_limit"
      done
      for impl in nabla libtorch pytorch; do
        echo "=== round $round: $impl cnn, $t thread(s), $cnn_limit samples per epoch"
        run "$impl" --model cnn --threads "$t" --reps "$reps" --limit "$cnn_limit" --warmup 10
      done
    done
    for impl in nabla libtorch pytorch; do
      echo "=== round $round: $impl batch-1 MLP latency, 1 thread"
      run "$impl" --infer --threads 1 --calls 10000
    done
  done
  # Every train*.txt there, plus this run's file whatever its name.
  "$py" "$here/train_table.py" $(ls "$out"/train*.txt 2>/dev/null | grep -vxF "$res") "$res" |
    tee "$out/train_ratios.md"
  echo "load average after training runs: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

if [ "${BENCH_ONLY:-kernels}" = kernels ]; then
  for b in per_op_overhead_bench matmul_bench elementwise_bench; do
    echo "=== $b"
    "$build/bench/$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
      ${BENCH_FILTER:+--benchmark_filter="$BENCH_FILTER"} \
      --benchmark_out="$out/$b.json" --benchmark_out_format=json
  done
  /usr/bin/env python3 "$here/ratio_table.py" "$out"/per_op_overhead_bench.json "$out"/matmul_bench.json \
    "$out"/elementwise_bench.json | tee "$out/ratios.md"
fi
if [ "${BENCH_ONLY:-deploy}" = deploy ]; then
  # 3. bundle load time and batch-1 latency: nabla::load_model vs TorchScript in libtorch.
  d="$out/deploy"
  rm -rf "$d" && mkdir -p "$d"
  echo "=== deploy: bundles vs TorchScript"
  "$build/bench/deploy_bench" export "$d"
  "$py" "$here/deploy_torchscript.py" "$d"
  "$build/bench/deploy_bench" compare "$d" --calls 10000 --loads 7 | tee "$out/deploy.txt"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
