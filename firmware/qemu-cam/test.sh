#!/bin/sh
# End-to-end check of the qemu-cam placeholder: build, then three QEMU runs
# (echo; bench ending in exit 7; bench ending in a fault -> exit 131).
#   test.sh [OUT]        OUT defaults to /work/main/target/qemu-cam
set -eu
cd "$(dirname "$0")"
OUT=${1:-/work/main/target/qemu-cam}
ELF=$OUT/qemu-cam.elf
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_rc() {   # wait_rc RUNDIR EXPECTED
    i=0; while [ ! -f "$1/rc" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    rc=$(cat "$1/rc" 2>/dev/null || echo none)
    [ "$rc" = "$2" ] || { echo "FAIL: QEMU exit $rc, want $2"; cat "$1/log"; exit 1; }
    echo "QEMU exit status $rc as expected"
}

t0=$(date +%s.%N)
make -s OUT="$OUT" >/dev/null
echo "build: $(python3 -c "print(f'{$(date +%s.%N) - $t0:.2f}')") s"

echo "== echo"
P=$(free_port); R=$(./run-qemu.sh "$P" "$ELF")
python3 echo_test.py "$P"
kill "$(cat "$R/pid")"; wait_rc "$R" 0

echo "== bench, exit 7"
P=$(free_port); R=$(./run-qemu.sh "$P" "$ELF" bench)
python3 echo_test.py "$P" --bench --end quit:7
wait_rc "$R" 7
grep -q "semihosting debug print ok" "$R/log" && echo "semihosting debug print seen in QEMU log"

echo "== bench, fault"
P=$(free_port); R=$(./run-qemu.sh "$P" "$ELF" bench)
python3 echo_test.py "$P" --bench --size 1024 --clock 0.2 --end fault >/dev/null
wait_rc "$R" 131
grep "exception\|pc " "$R/log"
echo "ALL OK"
