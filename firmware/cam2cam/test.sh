#!/bin/bash
# Cam to cam: the host role on an emulated Cortex-M7 cam (cam A, firmware/cam2cam/host_cam.c)
# reads another emulated cam (cam B, the device cam of firmware/qemu-cam) UART to UART, through
# a forwarding proxy (proxy.py) between the two QEMU chardev sockets. Also runs the no-alloc
# host's Rust tests and the host C API test, and prints the host role's sizes.
#
#   firmware/cam2cam/test.sh [--no-rust]
#
# Runs: clean (no error allowed), drop and flip (the proxy drops / corrupts bytes at a set
# rate both ways), reset (cam B's QEMU killed and started again mid-transfer). Cam A must
# end with PASS in each, recovering from every fault by typed error + resync + retry; every
# wait is bounded (engine timeouts, cam A's guards, timeout(1) around every process).
# Environment: CARGO_TARGET_DIR (default <repo>/target), CAM2CAM_RATE (fault rate per byte,
# default 0.0005), CAM2CAM_SEED (default 1).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
FW=$(dirname "$HERE")
ROOT=$(dirname "$FW")
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT=$CARGO_TARGET_DIR/cam2cam
TARGET=thumbv7em-none-eabihf
RATE=${CAM2CAM_RATE:-0.0005}
SEED=${CAM2CAM_SEED:-1}
RUST=1
for a in "$@"; do
    case $a in
        --no-rust) RUST=0 ;;
        *) echo "usage: $0 [--no-rust]" >&2; exit 2 ;;
    esac
done
T0=$(date +%s)
say() { echo "== cam2cam: $*"; }
ms() { python3 -c "import time; print(int(time.time() * 1000))"; }
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "  ok: $*"; }
bad() { failed=$((failed + 1)); echo "  FAILED: $*" >&2; }

# ---- tools (installed only when missing) -----------------------------------------------------
need_apt=""
command -v qemu-system-arm >/dev/null || need_apt="$need_apt qemu-system-arm"
command -v arm-none-eabi-gcc >/dev/null || need_apt="$need_apt gcc-arm-none-eabi"
[ -d /usr/lib/arm-none-eabi/newlib ] || need_apt="$need_apt libnewlib-arm-none-eabi"
command -v cc >/dev/null || need_apt="$need_apt gcc"
if [ -n "$need_apt" ]; then
    timeout 600 apt-get update -q >/dev/null
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q $need_apt >/dev/null
fi
rustup target list --installed 2>/dev/null | grep -q "$TARGET" || timeout 300 rustup target add "$TARGET" >/dev/null

mkdir -p "$OUT"
CAM_A_PIDS=""
cleanup() { for p in $CAM_A_PIDS; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cd "$ROOT"
# ---- 1. the heap-free host machine against the device engine, in memory ------------------------
if [ "$RUST" = 1 ]; then
    say "no-alloc host tests (cargo test --release -p openmvproto --test host_noalloc)"
    timeout 1800 cargo test -q --release -p openmvproto --test host_noalloc 2>&1 | grep -E "test result|panicked|FAILED" ||
        true
    if timeout 600 cargo test -q --release -p openmvproto --test host_noalloc >/dev/null 2>&1; then
        ok "host_noalloc"
    else
        bad "host_noalloc"
    fi
    say "no-alloc host builds for $TARGET without alloc"
    if timeout 900 cargo build -q --release -p openmvproto --no-default-features --target "$TARGET"; then
        ok "openmvproto --no-default-features on $TARGET"
    else
        bad "openmvproto --no-default-features on $TARGET"
    fi
fi

# ---- 2. the libraries and the two cams -----------------------------------------------------------
say "cross-build ($TARGET, profile firmware, LTO staticlibs: device only, device + host)"
# The device-only library exactly as firmware/test.sh builds it (same target dir: no rebuild).
timeout 1800 cargo rustc -q -p openmvproto-firmware --profile firmware --target "$TARGET" \
    --crate-type staticlib --target-dir "$CARGO_TARGET_DIR/fw-lto"
DEV_LIB=$CARGO_TARGET_DIR/fw-lto/$TARGET/firmware/libopenmvproto_firmware.a
timeout 1800 cargo rustc -q -p openmvproto-firmware --profile firmware --target "$TARGET" --features host \
    --crate-type staticlib --target-dir "$CARGO_TARGET_DIR/fw-lto-host"
HOST_LIB=$CARGO_TARGET_DIR/fw-lto-host/$TARGET/firmware/libopenmvproto_firmware.a
make -s -C "$FW/qemu-cam" OUT="$OUT/cam-b" ENGINE_LIB="$DEV_LIB" >/dev/null
CAM_B=$OUT/cam-b/qemu-cam-engine.elf
make -s -C "$HERE" OUT="$OUT" HOST_LIB="$HOST_LIB" >/dev/null
CAM_A=$OUT/cam-a.elf
echo "  cam A (host role) $CAM_A; cam B (device) $CAM_B"

# ---- 3. the host C API, device and host instances back to back in one process -----------------
say "host C API test (host build, gcc -std=c99 -Wall -Wextra -Werror, ASan/UBSan)"
timeout 1800 cargo build -q --release -p openmvproto-firmware --features host
cp "$CARGO_TARGET_DIR/release/libopenmvproto_firmware.a" "$OUT/libopenmvproto_firmware_host.a"
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"
echo 'int main(void){return 0;}' >"$OUT/san.c"
cc $SAN "$OUT/san.c" -o "$OUT/san" 2>/dev/null && "$OUT/san" 2>/dev/null || SAN=""
# shellcheck disable=SC2086
cc -std=c99 -Wall -Wextra -Werror -g $SAN -DOMV_FW_HOST -I "$FW/include" "$FW/tests/fw_host_api_test.c" \
    "$OUT/libopenmvproto_firmware_host.a" -lpthread -ldl -lm -o "$OUT/fw_host_api_test"
t=$(ms)
if ASAN_OPTIONS=detect_leaks=0 timeout 120 "$OUT/fw_host_api_test"; then
    ok "fw_host_api_test ($(( $(ms) - t )) ms)"
else
    bad "fw_host_api_test"
fi

# ---- 4. cam to cam under QEMU ------------------------------------------------------------------
# run NAME MODE PROXY-ARGS...: cam A in MODE, the proxy with its fault options starting cam B.
run() {
    local name=$1 mode=$2
    shift 2
    local pa pb run t rc
    pa=$(free_port)
    pb=$(free_port)
    run=$OUT/run-$name
    rm -rf "$run"
    run=$(QEMU_TIMEOUT=150 QEMU_RUNDIR="$run" "$FW/qemu-cam/run-qemu.sh" "$pa" "$CAM_A" "$mode")
    CAM_A_PIDS="$CAM_A_PIDS $(cat "$run/pid")"
    t=$(ms)
    timeout -k 5 170 python3 "$HERE/proxy.py" --a-port "$pa" --b-port "$pb" --b-log "$run/cam-b.log" \
        --seed "$SEED" "$@" -- timeout -k 5 150 qemu-system-arm -M mps2-an500 -display none -monitor none \
        -semihosting-config enable=on,target=native,arg=qemu-cam \
        -serial "tcp:127.0.0.1:$pb,server=on,wait=on,nodelay=on" -kernel "$CAM_B" >"$run/proxy.log" 2>&1 || true
    local i=0
    while [ ! -f "$run/rc" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    rc=$(cat "$run/rc" 2>/dev/null || echo "still running")
    RUN_MS=$(( $(ms) - t ))
    RUN_DIR=$run
    grep "^cam2cam:" "$run/log" | grep -v "all 3072 pixels" | sed 's/^/  /' || true
    grep -c "all 3072 pixels as expected" "$run/log" | sed 's/^/  frames checked pixel for pixel: /' || true
    sed 's/^/  /' "$run/proxy.log"
    RUN_RC=$rc
}
verdict() {   # verdict NAME [PROXY-COUNT-THAT-MUST-BE-NONZERO]
    local name=$1 key=${2:-} v
    if [ "$RUN_RC" != 0 ] || ! grep -q "^cam2cam: PASS" "$RUN_DIR/log"; then
        bad "$name: cam A exit status $RUN_RC"
        sed 's/^/  cam A log: /' "$RUN_DIR/log" | tail -20 >&2
        return
    fi
    if [ -n "$key" ]; then
        v=$(sed -n "s/.* $key=\([0-9]*\).*/\1/p" "$RUN_DIR/proxy.log")
        if [ "${v:-0}" = 0 ]; then
            bad "$name: the proxy injected no fault ($key=${v:-?})"
            return
        fi
    fi
    ok "$name ($RUN_MS ms)"
}

say "clean link: cam A reads cam B's channel list, 5 frames, a 4 KiB config round trip, a script's stdout"
run clean clean
verdict clean
say "bytes dropped both ways at $RATE per byte"
run drop faults --drop "$RATE"
verdict drop dropped
say "bytes corrupted (one bit flipped) both ways at $RATE per byte"
run flip faults --flip "$RATE"
verdict flip flipped
say "cam B reset mid-transfer (its QEMU killed after 6000 bytes from it, then started again)"
run reset faults --reset-after 6000
verdict reset resets

# ---- 5. sizes --------------------------------------------------------------------------------------
say "size"
"$HERE/size.sh" "$HOST_LIB" "$OUT/size"

say "done in $(( $(date +%s) - T0 )) s"
echo "cam2cam: $passed passed, $failed failed"
[ "$failed" = 0 ]
