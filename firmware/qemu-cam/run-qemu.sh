#!/bin/sh
# Start qemu-cam under QEMU in the background and return once its UART0 is
# listening on 127.0.0.1:PORT.
#
#   run-qemu.sh PORT ELF [ARG...]
#
# ARGs become the guest's semihosting command line (e.g. `bench`).
# Environment: QEMU_TIMEOUT (s, default 120), QEMU_RUNDIR (default
# /tmp/qemu-cam-PORT) which receives:
#   pid   pid of the `timeout` wrapper (kill it to stop QEMU)
#   log   QEMU's stdout/stderr, including semihosting debug prints
#   rc    QEMU's exit status once it has ended (124: hit QEMU_TIMEOUT)
#
# Serial flags: server,wait=on makes QEMU hold the guest until the client
# connects (with wait=off early output would be lost); nodelay=on disables
# Nagle, without which one-byte-at-a-time exchanges stall ~44 ms each.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 PORT ELF [ARG...]" >&2; exit 2; }
PORT=$1 ELF=$2
shift 2
[ -f "$ELF" ] || { echo "$0: no such ELF: $ELF" >&2; exit 2; }
RUNDIR=${QEMU_RUNDIR:-/tmp/qemu-cam-$PORT}
mkdir -p "$RUNDIR"
if [ -f "$RUNDIR/pid" ] && [ ! -f "$RUNDIR/rc" ] && kill -0 "$(cat "$RUNDIR/pid")" 2>/dev/null; then
    echo "$0: an instance is still running for $RUNDIR (pid $(cat "$RUNDIR/pid"))" >&2
    exit 1
fi
rm -f "$RUNDIR/pid" "$RUNDIR/rc"

SEMI="enable=on,target=native,arg=qemu-cam"
for a in "$@"; do SEMI="$SEMI,arg=$a"; done

(
    # -k: SIGKILL if QEMU ignores the TERM sent at the deadline.
    timeout -k 5 "${QEMU_TIMEOUT:-120}" qemu-system-arm -M mps2-an500 \
        -display none -monitor none -semihosting-config "$SEMI" \
        -serial "tcp:127.0.0.1:$PORT,server=on,wait=on,nodelay=on" \
        -kernel "$ELF" </dev/null >"$RUNDIR/log" 2>&1 &
    echo $! >"$RUNDIR/pid"
    rc=0; wait $! || rc=$?
    echo $rc >"$RUNDIR/rc"
) </dev/null >/dev/null 2>&1 &
# (The watcher must not keep our stdout open, or `$(run-qemu.sh ...)` in the
# caller would block until QEMU ends.)

# QEMU announces the listening socket before it blocks on wait=on.
i=0
until grep -q "waiting for connection" "$RUNDIR/log" 2>/dev/null; do
    if [ -f "$RUNDIR/rc" ] || [ $i -ge 100 ]; then
        echo "$0: QEMU did not start listening:" >&2
        cat "$RUNDIR/log" >&2 2>/dev/null || true
        exit 1
    fi
    i=$((i + 1)); sleep 0.05
done
echo "$RUNDIR"
