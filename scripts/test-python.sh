#!/usr/bin/env bash
# The Python package `openmvproto` (bindings/python: PyO3 + maturin, abi3 wheel):
#   1. wheel    maturin (from PyPI, in target/venv-maturin) builds the wheel with the shared
#               target dir: target/wheels/openmvproto-*-cp38-abi3-*.whl
#   2. install  fresh venvs: Python 3.12 installs the built wheel file, Python 3.11 installs the
#               source folder (`pip install ./bindings/python`, maturin as PEP 517 backend);
#               both import it
#   3. types    mypy's stubtest (3.12): the stubs (_native.pyi) say what the extension has,
#               and the package's Python type-checks against them
#   4. pytest   bindings/python/tests against omv-vcam over TCP, under 3.11 and under 3.12
#   5. compat   the same openmv program against openmv 1.0.7 and openmvproto on one omv-vcam
#               (pty), results compared call by call (3.12: openmv 1.0.7 fails on 3.11)
#   6. bench    frames/s, MB/s and CPU per frame at 320x240 and 640x480, grayscale and RGB565,
#               openmvproto against openmv 1.0.7 in the same run (3.12)
# Needs cargo, pyenv with CPython 3.11 and 3.12, PyPI (maturin, numpy, pytest, mypy, openmv==1.0.7).
# OMV_BENCH_SECONDS sets the bench time per client and case (default 2.5).
# Ends with "python: N passed, M failed" (stages); exit 1 if any stage failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
export CARGO_TARGET_DIR="$TARGET"
MATURIN_VERSION=1.16.0
OPENMV_VERSION=1.0.7
MYPY_VERSION=2.4.1
BENCH_SECONDS=${OMV_BENCH_SECONDS:-2.5}
PKG="$ROOT/bindings/python"
WHEELS="$TARGET/wheels/python"
cd "$ROOT"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

STAGE_AREA=python
. "$ROOT/scripts/stages.sh"

pyenv_python() { # pyenv_python 3.12: the newest installed CPython of that series
    local root
    root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
    ls -d "$root"/versions/"$1".*/bin/python3 2>/dev/null | sort -V | tail -n 1
}
PY311=$(pyenv_python 3.11)
PY312=$(pyenv_python 3.12)
[[ -n $PY311 && -n $PY312 ]] || { echo "test-python: pyenv needs CPython 3.11 and 3.12" >&2; exit 1; }

pip_q() { # pip_q VENV ARGS...: quiet pip, bounded
    timeout -k 10 900 "$1/bin/python" -m pip install -q --disable-pip-version-check "${@:2}"
}

# ---- 1. the wheel ----

MATURIN_VENV="$TARGET/venv-maturin"
if [[ $("$MATURIN_VENV/bin/maturin" --version 2>/dev/null) != "maturin $MATURIN_VERSION" ]]; then
    "$PY312" -m venv --clear "$MATURIN_VENV"
    pip_q "$MATURIN_VENV" "maturin==$MATURIN_VERSION"
fi
timeout -k 10 1800 scripts/release-build.sh -q # omv-vcam

# The 3.11 venv comes first: building the wheel with its interpreter lets the source install
# below reuse the build (pyo3 is rebuilt whenever the interpreter changes).
V311="$TARGET/venv-python-3.11"
V312="$TARGET/venv-python-3.12"
"$PY311" -m venv --clear "$V311"
build_wheel() {
    rm -rf "$WHEELS"
    (cd "$PKG" && timeout -k 10 1800 "$MATURIN_VENV/bin/maturin" build --release --locked \
        -i "$V311/bin/python" --out "$WHEELS") || return 1
    ls "$WHEELS"/openmvproto-*-cp38-abi3-*.whl >/dev/null
}
stage wheel build_wheel
WHEEL=$(ls "$WHEELS"/openmvproto-*-cp38-abi3-*.whl 2>/dev/null | head -n 1 || true)
[[ -n $WHEEL ]] || { echo "python: 0 passed, 1 failed (no wheel)"; exit 1; }
echo "wheel: $(basename "$WHEEL") ($(du -k "$WHEEL" | cut -f1) KB)"

# ---- 2. fresh venvs ----

imports() { # imports VENV: the installed package imports and says what it is
    timeout 60 "$1/bin/python" -c 'import openmvproto, sys
print("import:", sys.version.split()[0], "openmvproto", openmvproto.__version__, "protocol", openmvproto.PROTOCOL_VERSION, "from", openmvproto.__file__)'
}
install_312() {
    "$PY312" -m venv --clear "$V312" &&
        pip_q "$V312" "$WHEEL" numpy pytest "openmv==$OPENMV_VERSION" && imports "$V312"
}
install_311() {
    # From the source folder, as a user would; the shared target dir keeps it an incremental build.
    pip_q "$V311" "$PKG" numpy pytest && imports "$V311"
}
stage install-3.12-wheel install_312
stage install-3.11-source install_311

# ---- 3. the stubs against the extension ----

types() {
    pip_q "$V312" "mypy==$MYPY_VERSION" &&
        # From outside the source tree, so the installed package is what is checked.
        (cd "$WORK" && timeout -k 10 300 "$V312/bin/python" -m mypy.stubtest openmvproto)
}
stage types types

# ---- 4. pytest under both ----

VCAM="$TARGET/release/omv-vcam"
no_panics() { # no_panics STDERR_FILE: a Rust panic would be printed on fd 2
    if grep -q "panicked at" "$1"; then
        echo "test-python: Rust panicked:" >&2
        grep -A3 "panicked at" "$1" >&2
        return 1
    fi
}
pytest_in() { # pytest_in VENV
    local rc=0 err="$WORK/pytest-$(basename "$1").err"
    # --capture=sys: fd 2 (where Rust would print a panic) goes to the file, not to pytest.
    (cd "$PKG" && OMV_VCAM_BIN=$VCAM PYTHONDONTWRITEBYTECODE=1 timeout -k 10 600 \
        "$1/bin/python" -m pytest -q -p no:cacheprovider --capture=sys tests 2>"$err") || rc=1
    cat "$err" >&2
    no_panics "$err" || rc=1
    return $rc
}
stage pytest-3.11 pytest_in "$V311"
stage pytest-3.12 pytest_in "$V312"

# ---- 5. compatibility with openmv 1.0.7, 6. benchmark ----

compat() {
    OMV_VCAM_BIN=$VCAM timeout -k 10 600 "$V312/bin/python" "$PKG/tests/compat.py"
}
bench() {
    OMV_VCAM_BIN=$VCAM timeout -k 10 900 "$V312/bin/python" "$PKG/tests/bench.py" --seconds "$BENCH_SECONDS"
}
stage compat compat
stage bench bench

stages_done
