#!/bin/sh
# Firmware checks, idempotent: cross-build the engine's static library, check the committed
# C header, build the emulated cam, print (and enforce) the size figures beside the OpenMV C
# engine's, run the host-side C API tests, count instructions per payload byte (callgrind),
# and run an end-to-end check against the cam under QEMU.
#
#   firmware/test.sh [--openmv] [--no-e2e]
#
#   --openmv   also run the real `openmv` 1.0.7 client (tests/interop/openmv_client.py
#              --scenario firmware) against the cam over a pty (QEMU -serial pty: the
#              package opens its port with serial.Serial, which takes no socket URL); python
#              from FW_OPENMV_PYTHON, else <repo>/target/venv-openmv, made by scripts/openmv-venv.sh
#   --no-e2e   stop after the C API tests and the cost measurement
# Environment:
#   CARGO_TARGET_DIR   build directory (default: <repo>/target)
#   FW_TCP_CLIENT      extra client run against a fresh cam on TCP: "{addr}" -> 127.0.0.1:PORT
#   FW_PTY_CLIENT      extra client run against a fresh cam on a pty: "{pty}" -> /dev/pts/N
#   FW_SIZE_NOTES      where the size figures are written (default /tmp/notes/firmware-size.txt)
# Needs (installed by the project's install step): qemu-system-arm, gcc-arm-none-eabi,
# libnewlib-arm-none-eabi, a host C compiler, python3 (free port), cbindgen (header check),
# valgrind (cost per byte).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT=$CARGO_TARGET_DIR/firmware-test   # (target/firmware is cargo's own profile dir)
TARGET=thumbv7em-none-eabihf
NOTES=${FW_SIZE_NOTES:-/tmp/notes/firmware-size.txt}
OPENMV=0 E2E=1
for a in "$@"; do
    case $a in
        --openmv) OPENMV=1 ;;
        --no-e2e) E2E=0 ;;
        *) echo "usage: $0 [--openmv] [--no-e2e]" >&2; exit 2 ;;
    esac
done
mkdir -p "$OUT" "$(dirname "$NOTES")"
T0=$(date +%s)
ms() { python3 -c "import time; print(int(time.time() * 1000))"; }
say() { echo "== firmware: $*"; }

# QEMU processes this script started (killed on exit, by pid).
QEMU_PIDS=""
cleanup() { for p in $QEMU_PIDS; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- 1. the static library for the cam ---------------------------------------------------
say "cross-build ($TARGET, profile firmware)"
rustup target add "$TARGET" >/dev/null 2>&1 || rustup target list --installed 2>/dev/null | grep -q "$TARGET"
cd "$ROOT"
# The crate as declared (staticlib + rlib). Cargo runs no LTO for a library that is also an
# rlib, so the staticlib the cam links is built once more as a staticlib alone (same profile,
# its own target dir so the two builds do not invalidate each other), which gets LTO.
cargo build -q -p openmvproto-firmware --profile firmware --target "$TARGET"
LTO_DIR=$CARGO_TARGET_DIR/fw-lto
cargo rustc -q -p openmvproto-firmware --profile firmware --target "$TARGET" \
    --crate-type staticlib --target-dir "$LTO_DIR"
LIB=$LTO_DIR/$TARGET/firmware/libopenmvproto_firmware.a
LIB_NO_LTO=$CARGO_TARGET_DIR/$TARGET/firmware/libopenmvproto_firmware.a
# The same with the board's CRC unit instead of the software tables (feature hw-crc).
HW_DIR=$CARGO_TARGET_DIR/fw-lto-hwcrc
cargo rustc -q -p openmvproto-firmware --profile firmware --target "$TARGET" --features hw-crc \
    --crate-type staticlib --target-dir "$HW_DIR"
LIB_HW=$HW_DIR/$TARGET/firmware/libopenmvproto_firmware.a

# ---- 2. the committed header is what cbindgen generates ------------------------------------
if command -v cbindgen >/dev/null 2>&1; then
    cbindgen -q --config firmware/cbindgen.toml --crate openmvproto-firmware \
        --output "$OUT/openmvproto_fw.h" firmware
    if ! cmp -s "$OUT/openmvproto_fw.h" firmware/include/openmvproto_fw.h; then
        diff -u firmware/include/openmvproto_fw.h "$OUT/openmvproto_fw.h" | head -40
        echo "firmware/include/openmvproto_fw.h is stale: regenerate it (command in cbindgen.toml)" >&2
        exit 1
    fi
    say "header up to date (cbindgen $(cbindgen --version | cut -d' ' -f2))"
else
    say "cbindgen not installed: header check skipped"
fi

# ---- 3. the emulated cam --------------------------------------------------------------------
make -s -C "$HERE/qemu-cam" OUT="$OUT/qemu-cam" ENGINE_LIB="$LIB" >/dev/null
ELF=$OUT/qemu-cam/qemu-cam-engine.elf
say "emulated cam image $ELF"

# ---- 4. size, beside the OpenMV C engine ----------------------------------------------------
# The C engine's figures (issue 15: arm-none-eabi-gcc 12, -Os, Cortex-M7 thumb, hard float):
# omv_protocol.o text 3648 bss 4350; stdin/stdout text 758 bss 1060 (1 KiB stdout ring);
# stream text 406. Its CRC and memcpy come from elsewhere in the firmware.
C_TEXT=$((3648 + 758 + 406)) C_RAM=$((4350 + 1060))
say "size"
"$HERE/size/measure.sh" "$LIB" "$OUT/size"
. "$OUT/size/figures"; sw_flash=$flash storage=$storage mem_sw=$mem
"$HERE/size/measure.sh" "$LIB_HW" "$OUT/size-hwcrc"
. "$OUT/size-hwcrc/figures"; hw_flash=$flash
# Like for like with gcc -Os, which keeps no frame pointers (informative, nightly; see the script).
nofp=$("$HERE/size/no-frame-pointers.sh" "$OUT/size-nofp" | sed -n 's/^flash=//p')
nolto=$(MEASURE_ALLOW_FMT=1 "$HERE/size/measure.sh" "$LIB_NO_LTO" "$OUT/size-no-lto" >/dev/null 2>&1 &&
    . "$OUT/size-no-lto/figures" && echo "$flash" || echo "?")
STDOUT_RING=1024
verdict() { [ "$1" -le "$2" ] && echo "met" || echo "NOT met"; }
{
    echo "firmware engine size (thumbv7em-none-eabihf, profile firmware: opt-level s, the engine crate at 1 before LTO, LTO, panic=abort;"
    echo "every export kept, --gc-sections; memcpy/memmove/memset/memcmp from newlib)"
    printf '  %-44s %8s %8s %8s  %s\n' "" "measured" "target" "C engine" ""
    printf '  %-44s %8d %8d %8d  %s\n' "flash, hardware CRC (feature hw-crc)" "$hw_flash" 7168 "$C_TEXT" \
        "$(verdict "$hw_flash" 7168)"
    if [ -n "$nofp" ]; then
        printf '  %-44s %8d %8d %8d  %s\n' "  the same without frame pointers (nightly)" "$nofp" 7168 "$C_TEXT" \
            "$(verdict "$nofp" 7168) (informative: no frame pointers, as gcc -Os)"
    else
        printf '  %-44s %8s\n' "  the same without frame pointers (nightly)" "not measured (see above)"
    fi
    printf '  %-44s %8d %8d %8s  %s\n' "flash, software CRC tables" "$sw_flash" 8704 "$C_TEXT+CRC" \
        "$(verdict "$sw_flash" 8704)"
    printf '  %-44s %8d %8s %8s  %s\n' "newlib memory routines (counted apart)" "$mem_sw" "" "elsewhere" \
        "(in the firmware anyway)"
    printf '  %-44s %8d %8d %8s  %s\n' "instance storage (4 KiB packet buffer)" "$storage" 6144 "" \
        "$(verdict "$storage" 6144)"
    printf '  %-44s %8d %8s %8d\n' "  + the 1 KiB stdout ring (caller buffer)" $((storage + STDOUT_RING)) "" "$C_RAM"
    echo "  library .data/.bss: $ram_lib B; flash without LTO (plain 'cargo build' staticlib): $nolto B"
} | tee "$NOTES"
# Hard limits: no growth past the issue's storage target or the flash measured when the
# engine was last slimmed (firmware/size/limits), whichever the issue's targets allow.
. "$HERE/size/limits"
[ "$storage" -le 6144 ] || { echo "firmware: instance storage over 6144 B" >&2; exit 1; }
[ "$hw_flash" -le "$FLASH_HW_MAX" ] || { echo "firmware: hw-crc flash over $FLASH_HW_MAX B" >&2; exit 1; }
[ "$sw_flash" -le "$FLASH_SW_MAX" ] || { echo "firmware: flash over $FLASH_SW_MAX B" >&2; exit 1; }

# ---- 5. C API unit tests on the host -----------------------------------------------------------
say "C API tests (host build, gcc -std=c99 -Wall -Wextra -Werror, ASan/UBSan)"
cargo build -q -p openmvproto-firmware
HOST_LIB=$CARGO_TARGET_DIR/debug/libopenmvproto_firmware.a
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"
echo 'int main(void){return 0;}' >"$OUT/san.c"
cc $SAN "$OUT/san.c" -o "$OUT/san" 2>/dev/null && "$OUT/san" 2>/dev/null || SAN=""
cc -std=c99 -Wall -Wextra -Werror -g $SAN -I firmware/include firmware/tests/fw_api_test.c \
    "$HOST_LIB" -lpthread -ldl -lm -o "$OUT/fw_api_test"
ASAN_OPTIONS=detect_leaks=0 timeout 60 "$OUT/fw_api_test"

# ---- 5a. a board with less RAM: sizes set at build time --------------------------------------
say "a build for a board with less RAM (OMV_FW_PACKET_BUF=1024, OMV_FW_C_CHANNELS=4): its defaults initialise"
OMV_FW_PACKET_BUF=1024 OMV_FW_C_CHANNELS=4 cargo test -q -p openmvproto-firmware --lib \
    --target-dir "$CARGO_TARGET_DIR/fw-small" the_default_config_initialises_in_this_build

# ---- 5b. instructions per payload byte (callgrind on a host build; session in src/bin/fw_cost.rs)
if command -v valgrind >/dev/null 2>&1; then
    say "cost per payload byte"
    "$HERE/cost/run.sh" "$NOTES"
else
    say "valgrind not installed: cost per byte not measured"
fi

[ "$E2E" = 1 ] || { say "done in $(( $(date +%s) - T0 )) s (no e2e)"; exit 0; }

# ---- 6. end to end against the cam under QEMU ----------------------------------------------------
# Release, as the project builds everything else: a debug build of the client's std
# dependencies would cost minutes.
cargo build -q --release -p openmvproto-firmware --features host-check --bin fw-e2e
E2E_BIN=$CARGO_TARGET_DIR/release/fw-e2e
rm -rf "$OUT"/run-*   # QEMU run directories of earlier runs

# start_tcp: boots the cam on a free TCP port; sets PORT and RUN (run-qemu.sh's directory).
start_tcp() {
    PORT=$(free_port)
    RUN=$(QEMU_TIMEOUT=120 QEMU_RUNDIR="$OUT/run-$PORT" "$HERE/qemu-cam/run-qemu.sh" "$PORT" "$ELF")
    QEMU_PIDS="$QEMU_PIDS $(cat "$RUN/pid")"
}
wait_exit() {   # wait_exit RUNDIR: QEMU's exit status once it ended (within 5 s)
    i=0; while [ ! -f "$1/rc" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    cat "$1/rc" 2>/dev/null || echo "still running"
}

say "end to end: fw-e2e (client::Camera) over TCP (QEMU mps2-an500, UART0 <-> 127.0.0.1)"
start_tcp
t=$(ms)
if ! timeout 90 "$E2E_BIN" "127.0.0.1:$PORT" --frames 3 --config-bytes 20000 --timeout 60; then
    sed 's/^/  qemu log: /' "$RUN/log" >&2
    exit 1
fi
rc=$(wait_exit "$RUN")
grep "qemu-cam:" "$RUN/log" | sed 's/^/  qemu log: /'
[ "$rc" = 0 ] || { echo "QEMU did not end with status 0 after SYS_BOOT: $rc" >&2; exit 1; }
echo "  QEMU ended with status 0; end to end took $(( $(ms) - t )) ms"
stack_of() { v=$(sed -n "s/.*stack used by $1 0x\([0-9a-f]*\).*/\1/p" "$RUN/log"); echo $((0x${v:-0})); }
stack_init=$(stack_of omv_fw_init) stack_loop=$(stack_of 'the main loop[^0]*')
echo "  stack measured in the emulated cam: omv_fw_init $stack_init bytes, main loop" \
    "(engine calls and interrupts) $stack_loop bytes" | tee -a "$NOTES"
# A zero means the cam did not report it; over the ceiling means a buffer moved onto the stack.
stack_check() { [ "$2" -gt 0 ] && [ "$2" -le "$3" ] || { echo "firmware: $1 stack $2 B, not in 1..$3" >&2; exit 1; }; }
stack_check omv_fw_init "$stack_init" "$STACK_INIT_MAX"
stack_check "main-loop" "$stack_loop" "$STACK_LOOP_MAX"

if [ -n "${FW_TCP_CLIENT:-}" ]; then
    say "extra TCP client: $FW_TCP_CLIENT"
    start_tcp
    sh -c "timeout 120 $(echo "$FW_TCP_CLIENT" | sed "s|{addr}|127.0.0.1:$PORT|g")"
    kill "$(cat "$RUN/pid")" 2>/dev/null || true
fi

# run_pty CMD: boots the cam on a pty and runs CMD with {pty} replaced by its path.
run_pty() {
    log=$OUT/run-pty.log
    timeout -k 5 120 qemu-system-arm -M mps2-an500 -display none -monitor none \
        -semihosting-config enable=on,target=native,arg=qemu-cam -serial pty \
        -kernel "$ELF" </dev/null >"$log" 2>&1 &
    qpid=$!
    QEMU_PIDS="$QEMU_PIDS $qpid"
    pty=""; i=0
    while [ -z "$pty" ] && [ $i -lt 100 ]; do
        sleep 0.05; i=$((i + 1))
        pty=$(sed -n 's|.*redirected to \(/dev/pts/[0-9]*\).*|\1|p' "$log")
    done
    [ -n "$pty" ] || { cat "$log" >&2; echo "QEMU printed no pty" >&2; exit 1; }
    sh -c "timeout 120 $(echo "$1" | sed "s|{pty}|$pty|g")"
    kill "$qpid" 2>/dev/null || true
}

if [ "$OPENMV" = 1 ]; then
    # Asked for, so never skipped: the venv is made here if it is not there yet.
    PY=${FW_OPENMV_PYTHON:-}
    if [ -z "$PY" ]; then
        PY=$("$ROOT/scripts/openmv-venv.sh") # fails the test if it cannot be made
        PY=$(printf '%s\n' "$PY" | tail -n 1)
    fi
    say "openmv 1.0.7 client over a pty (scenario firmware)"
    run_pty "$PY $ROOT/tests/interop/openmv_client.py --scenario firmware --port {pty}"
fi
if [ -n "${FW_PTY_CLIENT:-}" ]; then
    say "extra pty client: $FW_PTY_CLIENT"
    run_pty "$FW_PTY_CLIENT"
fi

say "all passed in $(( $(date +%s) - T0 )) s"
