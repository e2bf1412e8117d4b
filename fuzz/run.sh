#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time on a seed corpus of valid files.
#   fuzz/run.sh BUILD_DIR SECONDS        (what `make fuzz` runs after building the targets)
# Seeds: files written by fuzz_make_corpus (current writers) plus the committed interop fixtures.
# The growing corpus lives in BUILD_DIR/fuzz-corpus/ (kept between runs); crashes are written to
# BUILD_DIR/fuzz-crashes/. Exits non-zero as soon as a target finds a crash, leak, timeout, or a
# single allocation above 1 GiB (-malloc_limit_mb: a huge declared size must never be allocated).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:?usage: fuzz/run.sh BUILD_DIR SECONDS}
S=${2:-60}
seeds=$B/fuzz-seeds
rm -rf "$seeds"
"$B/fuzz/fuzz_make_corpus" "$seeds" >/dev/null
cp tests/fixtures/io/*.safetensors "$seeds/safetensors/"
cp tests/fixtures/io/torch_written/x.npy tests/fixtures/io/torch_written/extra.bool.npy "$seeds/npy/"
mkdir -p "$B/fuzz-crashes"
for kind in safetensors checkpoint npy bundle; do
  dict=()
  [ "$kind" = safetensors ] || [ "$kind" = checkpoint ] && dict=(-dict=fuzz/safetensors.dict)
  [ "$kind" = bundle ] && dict=(-dict=fuzz/bundle.dict)
  mkdir -p "$B/fuzz-corpus/$kind"
  echo "=== fuzz_$kind for ${S}s"
  # PIPESTATUS[0] is the fuzzer's own exit status (grep only trims its chatter; a missing binary
  # is 127). Not after `|| true`, which would replace PIPESTATUS with true's.
  set +e
  "$B/fuzz/fuzz_$kind" -max_total_time="$S" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix="$B/fuzz-crashes/$kind-" "${dict[@]}" \
    "$B/fuzz-corpus/$kind" "$seeds/$kind" 2>&1 | grep -E "^(#[0-9]+ *DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)|INFO: seed corpus"
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" != 0 ]; then
    echo "fuzz_$kind FAILED (exit $status); reproducer in $B/fuzz-crashes/"
    exit 1
  fi
done
echo "fuzzing: no crash, leak, timeout or oversized allocation"
