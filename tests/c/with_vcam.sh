#!/bin/sh
# with_vcam.sh VCAM CMD ARGS...: starts `VCAM --tcp 127.0.0.1:0`, runs CMD with every @ADDR@
# in ARGS replaced by the cam's address, stops the cam, and exits with CMD's status
# (77, "skipped" for CTest, if VCAM is missing).
set -u
vcam=$1
shift
if [ ! -x "$vcam" ]; then
    echo "with_vcam: $vcam not found: skipping" >&2
    exit 77
fi
out=$(mktemp "${TMPDIR:-/tmp}/vcam.XXXXXX")
"$vcam" --tcp 127.0.0.1:0 --width 80 --height 60 --log-level warn >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$out"' EXIT
addr=
i=0
while [ -z "$addr" ] && [ $i -lt 100 ]; do
    addr=$(sed -n 's/^listening on //p' "$out")
    [ -n "$addr" ] || sleep 0.1
    i=$((i + 1))
done
if [ -z "$addr" ]; then
    echo "with_vcam: the cam did not start" >&2
    exit 1
fi
cmd=$1
shift
for a in "$@"; do
    if [ "$a" = "@ADDR@" ]; then a=$addr; fi
    set -- "$@" "$a"
    shift
done
"$cmd" "$@"
