# Sourced by the TensorBoard CTests: sets $python to an interpreter that can import tensorboard
# (NABLA_TB_PYTHON, then <build>/.tb-venv made by `make test`, then python3), or exits 77, which
# CTest reports as skipped, with the reason. TensorBoard is pip-only (Debian does not package it).
#   . tb_python.sh <build_dir>
python=""
for p in "${NABLA_TB_PYTHON:-}" "$1/.tb-venv/bin/python" python3 /usr/bin/python3; do
  [ -n "$p" ] || continue
  if "$p" -c "import tensorboard, numpy, PIL" 2>/dev/null; then python=$p; break; fi
done
if [ -z "$python" ]; then
  echo "SKIPPED: no Python with the tensorboard package (pip could not install it into $1/.tb-venv;"
  echo "         run 'make test' with network access, or set NABLA_TB_PYTHON to a python that has it)"
  exit 77
fi
echo "reading with $python ($("$python" -c 'import tensorboard; print("tensorboard", tensorboard.__version__)'))"
