#!/usr/bin/env bash
# CTest tensorboard.readback: readback_writer writes event files, read_events.py reads them with the
# real TensorBoard. TensorBoard comes from PyPI (Debian does not package it): `make test` installs
# it into <build>/.tb-venv. The test is skipped (exit 77) only when no Python can import it.
#   run_readback.sh <readback_writer> <read_events.py> <work_dir> <build_dir>
set -eu
writer=$1 script=$2 work=$3 build=$4
python=""
for p in "${NABLA_TB_PYTHON:-}" "$build/.tb-venv/bin/python" python3 /usr/bin/python3; do
  [ -n "$p" ] || continue
  if "$p" -c "import tensorboard, numpy, PIL" 2>/dev/null; then python=$p; break; fi
done
if [ -z "$python" ]; then
  echo "SKIPPED: no Python with the tensorboard package (pip could not install it into $build/.tb-venv;"
  echo "         run 'make test' with network access, or set NABLA_TB_PYTHON to a python that has it)"
  exit 77
fi
rm -rf "$work"
"$writer" "$work"
echo "reading with $python"
"$python" "$script" "$work"
