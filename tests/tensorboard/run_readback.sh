#!/usr/bin/env bash
# CTest tensorboard.readback: readback_writer writes event files, read_events.py reads them with the
# real TensorBoard.
#   run_readback.sh <readback_writer> <read_events.py> <work_dir> <build_dir>
set -eu
writer=$1 script=$2 work=$3 build=$4
. "$(dirname "$0")/tb_python.sh" "$build"
rm -rf "$work"
"$writer" "$work"
"$python" "$script" "$work"
