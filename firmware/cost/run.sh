#!/bin/sh
# Instructions the device engine spends per payload byte, counted by callgrind on a host build
# (profile firmware: opt-level s, the engine crate at 1 before LTO, LTO) of the cost harness (src/bin/fw_cost.rs, which
# describes the session). Only the engine's own calls are counted (omv_fw_poll,
# omv_fw_rx_push, omv_fw_send_event); the harness's host side and channel callbacks
# (fw_cost_*) run with counting toggled off.
#   firmware/cost/run.sh [OUTFILE]      (figures also appended to OUTFILE)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUTFILE=${1:-/dev/null}
OUT=$CARGO_TARGET_DIR/firmware-test/cost
mkdir -p "$OUT"
cd "$ROOT"
cargo build -q -p openmvproto-firmware --profile firmware --features cost --bin fw-cost
BIN=$CARGO_TARGET_DIR/firmware/fw-cost
command -v valgrind >/dev/null || { echo "cost: valgrind missing" >&2; exit 1; }

# measure PHASE: prints "<instructions> <sent payload> <received payload>"
measure() {
    rm -f "$OUT/callgrind.$1"
    timeout 600 valgrind -q --tool=callgrind --callgrind-out-file="$OUT/callgrind.$1" \
        --collect-atstart=no --toggle-collect=omv_fw_poll --toggle-collect=omv_fw_rx_push \
        --toggle-collect=omv_fw_send_event --toggle-collect='fw_cost_*' \
        "$BIN" "$1" >"$OUT/$1.txt"
    ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$OUT/callgrind.$1")
    [ -n "$ir" ] || ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$OUT/callgrind.$1")
    sent=$(sed -n 's/.*sent_payload=\([0-9]*\).*/\1/p' "$OUT/$1.txt")
    recv=$(sed -n 's/.*received_payload=\([0-9]*\).*/\1/p' "$OUT/$1.txt")
    echo "$ir $sent $recv"
}
per() { python3 -c "print(f'{$1 / $2:.2f}')"; }
set -- $(measure reads); r_ir=$1 r_sent=$2
set -- $(measure writes); w_ir=$1 w_recv=$3
set -- $(measure session); s_ir=$1 s_sent=$2 s_recv=$3
{
    echo "device cost per payload byte (callgrind, x86-64 host build, profile firmware; engine calls only)"
    echo "  reads:   1 MiB of CHANNEL_READ in 4 KiB requests (512-byte fragments, each ACKed):"
    echo "           $r_ir instructions / $r_sent payload bytes sent = $(per "$r_ir" "$r_sent") per sent byte"
    echo "  writes:  64 KiB of CHANNEL_WRITE in 4074-byte requests:"
    echo "           $w_ir instructions / $w_recv payload bytes received = $(per "$w_ir" "$w_recv") per received byte"
    echo "  session: SYNC, CHANNEL_LIST, 4 events, GET_CAPS, the reads and the writes:"
    echo "           $s_ir instructions / $((s_sent + s_recv)) payload bytes both ways = $(per "$s_ir" "$((s_sent + s_recv))") per byte"
} | tee -a "$OUTFILE"
