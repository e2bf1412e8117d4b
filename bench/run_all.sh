#!/usr/bin/env bash
# Runs the three benchmarks (5 repetitions, medians) and prints a ratio table.
#   bench/run_all.sh [build-dir]            (default: build-bench, as `make bench` configures it)
#   BENCH_FILTER=matmul bench/run_all.sh    (passes --benchmark_filter)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build-bench}"
out="$build/bench-results"
mkdir -p "$out"
# Timings with 2 threads are only meaningful on an otherwise idle machine: say how idle it was.
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
for b in per_op_overhead_bench matmul_bench elementwise_bench; do
  echo "=== $b"
  "$build/bench/$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    ${BENCH_FILTER:+--benchmark_filter="$BENCH_FILTER"} \
    --benchmark_out="$out/$b.json" --benchmark_out_format=json
done
/usr/bin/env python3 "$here/ratio_table.py" "$out"/per_op_overhead_bench.json "$out"/matmul_bench.json \
  "$out"/elementwise_bench.json | tee "$out/ratios.md"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
