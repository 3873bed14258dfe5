#!/bin/sh
# Idempotently set up target/venv-openmv: Python 3.12 (3.11 breaks openmv 1.0.7: `int in IntEnum`
# raises TypeError there) with the real host package openmv==1.0.7 and pytest.
# The last line printed on stdout is the venv's python.
set -eu
venv="$(cd "$(dirname "$0")/.." && pwd)/target/venv-openmv"
py="$venv/bin/python"
if ! "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
    root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
    base=$(ls -d "$root"/versions/3.12.*/bin/python3 2>/dev/null | sort -V | tail -n 1)
    [ -n "$base" ] || { echo "openmv-venv: no Python 3.12 under $root/versions" >&2; exit 1; }
    "$base" -m venv --clear "$venv"
fi
# openmv.__version__ says 2.0.0 in 1.0.7, so ask the distribution metadata instead.
if ! "$py" -c 'import importlib.metadata as m, openmv, pytest; assert m.version("openmv") == "1.0.7"' 2>/dev/null; then
    "$py" -m pip install -q openmv==1.0.7 pytest >&2
fi
echo "$py"
