#!/usr/bin/env bash
# The real `openmv` 1.0.7 client (PyPI, Python 3.12 venv, package unchanged) against omv-vcam
# over a pseudo-terminal: the full scenario, then a session with its drop_rate option set.
# Needs the release omv-vcam in $CARGO_TARGET_DIR/release.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VCAM="${CARGO_TARGET_DIR:-$ROOT/target}/release/omv-vcam"
PY=$(scripts/openmv-venv.sh | tail -n 1)
LINK=$(mktemp -u /tmp/omv-interop-XXXXXX)
pid=""
stop() { [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; }; }
trap stop EXIT

run() { # run SCENARIO [vcam options...]
    local scenario=$1; shift
    "$VCAM" --pty "$LINK" --log-level warn "$@" >/dev/null &
    pid=$!
    for _ in $(seq 100); do [ -L "$LINK" ] && break; sleep 0.05; done
    echo "-- openmv 1.0.7, scenario $scenario, omv-vcam $*"
    timeout -k 5 120 "$PY" tests/interop/openmv_client.py --port "$LINK" --scenario "$scenario" --timeout 100 --soft-reboot
    stop
}

run full
# Every dropped fragment costs the cam's 500 ms retransmission: small frames keep it brisk.
run droprate --width 64 --height 48
