#!/usr/bin/env bash
# End-to-end tests of `omv` against `omv-vcam`: every subcommand (JSON outputs parsed), the
# live view under Xvfb (screenshot of the real window matched against the test pattern, keys
# pressed with xdotool, reconnection to a restarted cam), `omv run --follow` driven in tmux,
# and `omv bench --compare` against openmv 1.0.7 in the same run.
# Leaves target/omv/view.png (and view-profiler.png, view-reconnected.png) to look at.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
T="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$T/omv"
OMV="$T/release/omv"
VCAM="$T/release/omv-vcam"
TESTS="$ROOT/omv/tests"
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/omv-test-XXXXXX)

# ---- what the tests need ----
need=()
for p in xvfb xdotool imagemagick x11-utils tmux jq libgl1-mesa-dri libegl1 libgl1 libxkbcommon-x11-0 \
         libxcursor1 libxrandr2 libxi6; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "-- installing ${need[*]}"
    timeout 600 apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
PY="$T/venv-omv/bin/python"
if ! "$PY" -c 'import numpy, PIL' 2>/dev/null; then
    python3 -m venv --clear "$T/venv-omv"
    timeout 600 "$PY" -m pip install -q numpy pillow
fi
OPENMV_PY=$(timeout 600 scripts/openmv-venv.sh | tail -n 1)

timeout 1800 scripts/release-build.sh -q # omv, omv-vcam
# The test command ran omv's cargo tests with the whole workspace already (OMV_WORKSPACE_TESTED=1).
if [[ -z ${OMV_WORKSPACE_TESTED:-} ]]; then
    out=$(timeout 1800 cargo test --release -q -p omv 2>&1) || { echo "$out"; echo "FAIL: cargo test -p omv" >&2; exit 1; }
    grep -E "^test result" <<<"$out"
fi

# ---- helpers ----
pids=()
xvfb_pid=""
session="omv-test-$$"
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    tmux kill-session -t "$session" 2>/dev/null || true
    [ -z "$xvfb_pid" ] || { kill "$xvfb_pid" 2>/dev/null || true; wait "$xvfb_pid" 2>/dev/null || true; }
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds or time is up.
wait_for() {
    local secs=$1 what=$2; shift 2
    local end=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || fail "timed out after ${secs}s waiting for $what"
        sleep 0.05
    done
}
omv() { timeout 60 "$OMV" "$@"; }
jcheck() { # jcheck FILE JQ_EXPRESSION DESCRIPTION
    jq -e "$2" "$1" >/dev/null || { cat "$1" >&2; fail "$3"; }
    ok "$3"
}

# start_vcam LOGFILE ARGS...: an omv-vcam on TCP; sets VCAM_PID and VCAM_ADDR.
start_vcam() {
    local log=$1; shift
    timeout 600 "$VCAM" --log-level warn "$@" >"$log" 2>&1 &
    VCAM_PID=$!
    pids+=($VCAM_PID)
    wait_for 20 "omv-vcam to listen" grep -q "^listening on " "$log"
    VCAM_ADDR=$(sed -n 's/^listening on //p' "$log" | head -n 1)
}

start_vcam "$WORK/vcam.log" --tcp 127.0.0.1:0
ADDR=$VCAM_ADDR
CAM=(--tcp "$ADDR")
echo "-- omv-vcam at $ADDR"

# ---- info, ports, channels ----
omv "${CAM[@]}" --json info >"$WORK/info.json"
jcheck "$WORK/info.json" '.version.protocol == "1.0.2" and .system.usb_vid == "0x37C5"
    and (.channels | map(.name) | index("stdout")) != null and .link.crc == true' "info --json"
omv "${CAM[@]}" info >"$WORK/info.txt"
grep -q "^versions   protocol 1.0.2" "$WORK/info.txt" || fail "info text"
omv --json ports >"$WORK/ports.json"
jcheck "$WORK/ports.json" 'type == "array" and all(.[]; has("path") and has("serial_number"))' "ports --json"
omv "${CAM[@]}" --json channel list >"$WORK/list.json"
jcheck "$WORK/list.json" '(map(.name) | contains(["config","stdin","stdout","stream","ticks"]))
    and (.[] | select(.name == "stream") | .flags | index("lock")) != null' "channel list --json"

head -c 6000 /dev/urandom >"$WORK/blob"
omv "${CAM[@]}" channel write config "$WORK/blob"
omv "${CAM[@]}" --json channel size config >"$WORK/size.json"
jcheck "$WORK/size.json" '.size == 6000' "channel write FILE / size --json"
omv "${CAM[@]}" channel read config --out "$WORK/blob.back"
cmp -s "$WORK/blob" "$WORK/blob.back" || fail "channel read --out gives back what was written"
omv "${CAM[@]}" --json channel read config --offset 10 --len 4 >"$WORK/read.json"
want=$(od -An -tx1 -j10 -N4 "$WORK/blob" | tr -d ' \n')
jcheck "$WORK/read.json" ".hex == \"$want\" and .len == 4" "channel read --offset --len --json"
printf 'hello omv' | omv "${CAM[@]}" channel write config
[ "$(omv "${CAM[@]}" channel read config)" = "hello omv" ] || fail "channel write from stdin"
ok "channel write from stdin / read to stdout"
omv "${CAM[@]}" --json channel shape config >"$WORK/shape.json"
jcheck "$WORK/shape.json" '.shape | type == "array" and length >= 1' "channel shape --json"
omv "${CAM[@]}" --json channel ioctl stream 0 01000000 >"$WORK/ioctl.json"
jcheck "$WORK/ioctl.json" '.ok == true and .request == 0' "channel ioctl --json (stream on)"
wait_for 10 "a frame in the stream channel" "$OMV" "${CAM[@]}" channel read stream --lock --out "$WORK/stream.bin"
[ "$(od -An -tu4 -N4 "$WORK/stream.bin" | tr -d ' ')" = 320 ] || fail "stream header width"
ok "channel read --lock (a frame header of width 320)"
omv "${CAM[@]}" channel ioctl stream 0x0 00000000

# ---- errors: one line, non-zero exit, no backtrace ----
check_error() { # check_error DESCRIPTION COMMAND...
    local what=$1; shift
    set +e
    "$@" >"$WORK/err.out" 2>"$WORK/err.txt"
    local rc=$?
    set -e
    [ $rc -ne 0 ] || fail "$what: exit code 0"
    [ "$(wc -l <"$WORK/err.txt")" -eq 1 ] || { cat "$WORK/err.txt" >&2; fail "$what: not one line"; }
    grep -q "^omv: " "$WORK/err.txt" || fail "$what: no 'omv:' prefix"
    ! grep -qi "panicked\|backtrace" "$WORK/err.txt" || fail "$what: a panic"
    ok "error, one line, exit $rc: $what: $(cat "$WORK/err.txt")"
}
check_error "no such channel" "$OMV" "${CAM[@]}" channel read nosuch
check_error "nothing listening" "$OMV" --tcp 127.0.0.1:1 --timeout 0.5 info
check_error "bad drop rate" "$OMV" --drop-rate 2 info
check_error "missing script" "$OMV" "${CAM[@]}" run "$WORK/none.py"
check_error "bad hex" "$OMV" "${CAM[@]}" channel ioctl stream 0 0g

# ---- lossy link and wire log: --drop-rate, --debug ----
head -c 3000 /dev/urandom >"$WORK/lossy"
: >"$WORK/wire.log"
for i in 1 2 3 4 5 6; do
    # A call may still fail after the client's retry; then it says so in one line.
    omv "${CAM[@]}" --drop-rate 0.05 --debug channel write config "$WORK/lossy" 2>>"$WORK/wire.log" || continue
    omv "${CAM[@]}" --drop-rate 0.05 --debug channel read config --out "$WORK/lossy.back" 2>>"$WORK/wire.log" || continue
    cmp -s "$WORK/lossy" "$WORK/lossy.back" || fail "--drop-rate: data read back differs"
done
cmp -s "$WORK/lossy" "$WORK/lossy.back" || fail "--drop-rate: no round trip succeeded"
grep -q "send seq .* op 0x" "$WORK/wire.log" || fail "--debug logs sent packets"
grep -q "recv seq .* op 0x" "$WORK/wire.log" || fail "--debug logs received packets"
ok "--drop-rate 0.05 round trips exact, $(grep -c '] drop ' "$WORK/wire.log" || true) packets dropped; --debug logged $(grep -c ' seq ' "$WORK/wire.log") packets"

# ---- frames: pixel-exact files ----
for fmt in png ppm raw; do
    omv "${CAM[@]}" --json frames --count 3 --out "$WORK/frames-$fmt" --format "$fmt" >"$WORK/frames.json"
    jcheck "$WORK/frames.json" 'length == 3 and all(.[]; .width == 320 and .height == 240 and .format == "grayscale")' \
        "frames --format $fmt --json"
    for f in $(jq -r '.[].path' "$WORK/frames.json"); do
        extra=(); [ "$fmt" != raw ] || extra=(--raw)
        "$PY" "$TESTS/pattern.py" "$f" --width 320 --height 240 --exact "${extra[@]}" >/dev/null ||
            fail "frame $f is not the test pattern pixel for pixel"
    done
    ok "frames --format $fmt: 3 files, each exactly (x + y + n) mod 256"
done
omv "${CAM[@]}" --quiet frames --count 2 --out "$WORK/frames-jpeg" --format jpeg
"$PY" -c "import sys; from PIL import Image; im = Image.open(sys.argv[1]); assert im.format == 'JPEG' and im.size == (320, 240)" \
    "$WORK/frames-jpeg/frame-00002.jpg" || fail "frames --format jpeg"
ok "frames --format jpeg decodes at 320x240"

# ---- controls: list, get, set, and what a set does to the cam's frames ----
omv "${CAM[@]}" --json controls list >"$WORK/controls.json"
jcheck "$WORK/controls.json" '(map(.widget) | unique) as $w
    | (["slider","spinbox","pushbutton","toggle","select","radio","lineedit","label","text","waveform","depth"]
       | all(. as $k | $w | index($k) != null))
    and (.[] | select(.name == "threshold") | .min == 0 and .max == 255 and .input == true)' \
    "controls list --json (every widget type)"
omv "${CAM[@]}" --json controls set threshold 128 >"$WORK/set.json"
jcheck "$WORK/set.json" '.value == 128' "controls set threshold 128 --json"
omv "${CAM[@]}" --json controls get threshold >"$WORK/get.json"
jcheck "$WORK/get.json" '.value == 128 and .widget == "slider"' "controls get threshold --json"
omv "${CAM[@]}" --quiet frames --count 1 --out "$WORK/frames-threshold"
"$PY" -c "import sys, numpy as np; from PIL import Image
a = np.asarray(Image.open(sys.argv[1])); v = set(np.unique(a).tolist())
assert v == {0, 255}, v" "$WORK/frames-threshold/frame-00001.png" || fail "threshold 128 gives black and white frames"
ok "controls set threshold 128: the cam's frames are black and white"
omv "${CAM[@]}" controls set threshold 0
omv "${CAM[@]}" controls set pattern 1
[ "$(omv "${CAM[@]}" controls get pattern)" = checkers ] || fail "controls set select by index"
omv "${CAM[@]}" controls set pattern gradient
omv "${CAM[@]}" controls set note "hello note"
[ "$(omv "${CAM[@]}" controls get note)" = "hello note" ] || fail "controls set lineedit"
omv "${CAM[@]}" --quiet frames --count 1 --out "$WORK/frames-reset"
# The cam writes its status text as it makes a frame.
omv "${CAM[@]}" controls get status >"$WORK/status.txt"
grep -q "hello note" "$WORK/status.txt" || fail "the note shows in the cam's status after a frame"
"$PY" "$TESTS/pattern.py" "$WORK/frames-reset/frame-00001.png" --width 320 --height 240 --exact >/dev/null ||
    fail "controls back at defaults: the exact test pattern again"
ok "controls set select (index, name), lineedit; defaults give the exact pattern again"
check_error "control out of range" "$OMV" "${CAM[@]}" controls set threshold 999
check_error "read-only control" "$OMV" "${CAM[@]}" controls set fps 3
check_error "no such control" "$OMV" "${CAM[@]}" controls get nosuch
check_error "not a boolean" "$OMV" "${CAM[@]}" controls set mirror maybe

# ---- run, stop ----
cat >"$WORK/three.py" <<'EOF'
for i in range(3):
    print("line", i)
EOF
omv "${CAM[@]}" run "$WORK/three.py" --follow >"$WORK/three.out"
# The cam may add its own lines after the script (the virtual cam, as firmware: "MPY: soft reboot").
[ "$(head -n 3 "$WORK/three.out")" = "$(printf 'line 0\nline 1\nline 2')" ] || { cat "$WORK/three.out"; fail "run --follow output"; }
ok "run --follow prints the script's output and exits 0 when it ends"
cat >"$WORK/forever.py" <<EOF
import os, time
open("$WORK/forever.pid", "w").write(str(os.getpid()))
i = 0
while True:
    print("tick", i, flush=True)
    i += 1
    time.sleep(0.05)
EOF
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
gone() { [ -s "$1" ] && ! kill -0 "$(cat "$1")" 2>/dev/null; }
rm -f "$WORK/forever.pid"
omv "${CAM[@]}" run "$WORK/forever.py"
wait_for 10 "the script to start on the cam" alive "$WORK/forever.pid"
omv "${CAM[@]}" stop
wait_for 10 "omv stop to end the script" gone "$WORK/forever.pid"
ok "run (no --follow) starts a script, stop ends it"

# run --follow in tmux: output as it comes, Ctrl-C stops the script on the cam. (timeout
# --foreground keeps omv in the terminal's process group, where Ctrl-C goes.)
rm -f "$WORK/forever.pid"
tmux new-session -d -s "$session" -x 160 -y 40 \
    "timeout --foreground 120 '$OMV' --tcp $ADDR run '$WORK/forever.py' --follow; echo EXIT=\$?; sleep 600"
pane() { tmux capture-pane -p -t "$session" -S -200; }
pane_has() { pane >"$WORK/pane.txt" && grep -q "$1" "$WORK/pane.txt"; }
wait_for 20 "ticks in the tmux pane" pane_has "^tick 5$"
tmux send-keys -t "$session" C-c
wait_for 20 "omv run to exit after Ctrl-C" pane_has "^EXIT="
pane >"$OUT/run-follow-pane.txt"
grep -q "^EXIT=130$" "$OUT/run-follow-pane.txt" || { cat "$OUT/run-follow-pane.txt"; fail "exit code after Ctrl-C"; }
grep -q "stopped .*forever.py on the cam" "$OUT/run-follow-pane.txt" || fail "Ctrl-C message"
wait_for 10 "Ctrl-C to stop the script on the cam" gone "$WORK/forever.pid"
tmux kill-session -t "$session"
ok "run --follow in tmux: $(grep -c '^tick' "$OUT/run-follow-pane.txt") ticks, C-c stopped the script, exit 130"

# ---- vcam subcommand ----
timeout 120 "$OMV" vcam --pty "$WORK/vcam-link" --width 64 --height 48 >"$WORK/omv-vcam.out" 2>&1 &
OV_PID=$!
pids+=($OV_PID)
wait_for 20 "omv vcam's pty link" test -L "$WORK/vcam-link"
omv --port "$WORK/vcam-link" --json frames --count 1 --out "$WORK/frames-pty" >"$WORK/pty.json"
jcheck "$WORK/pty.json" '.[0].width == 64 and .[0].height == 48' "omv vcam --pty, used with --port"
kill -TERM "$OV_PID"
wait "$OV_PID" || fail "omv vcam exit code after SIGTERM"
[ ! -e "$WORK/vcam-link" ] || fail "omv vcam left its link behind"
timeout 120 "$OMV" vcam --tcp 127.0.0.1:0 --format rgb565 >"$WORK/omv-vcam-tcp.out" 2>&1 &
OV_PID=$!
pids+=($OV_PID)
wait_for 20 "omv vcam --tcp to listen" grep -q "^listening on " "$WORK/omv-vcam-tcp.out"
omv --tcp "$(sed -n 's/^listening on //p' "$WORK/omv-vcam-tcp.out")" --json frames --count 1 --out "$WORK/frames-565" >"$WORK/565.json"
jcheck "$WORK/565.json" '.[0].format == "rgb565"' "omv vcam --tcp --format rgb565"
kill -INT "$OV_PID"
wait "$OV_PID" || fail "omv vcam exit code after SIGINT"
check_error "omv vcam on a non-loopback address (EXEC runs code) without --allow-remote-exec" \
    "$OMV" --tcp 0.0.0.0:0 vcam

# ---- the built-in virtual cam (no --port / --tcp) ----
omv --json info >"$WORK/builtin.json"
jcheck "$WORK/builtin.json" '.target | startswith("built-in virtual cam")' "no --port: the built-in virtual cam"

# ---- live view under Xvfb ----
# -noreset: an X server resets whenever its last client leaves, and a client that connects
# during the reset is refused; each xdotool poll below is such a last client.
exec 5>"$WORK/display"
Xvfb -displayfd 5 -screen 0 1600x1200x24 -nolisten tcp -noreset >"$WORK/xvfb.log" 2>&1 &
xvfb_pid=$!
exec 5>&-
wait_for 20 "Xvfb" test -s "$WORK/display"
export DISPLAY=":$(cat "$WORK/display")" LIBGL_ALWAYS_SOFTWARE=1
wait_for 20 "the X server" xdpyinfo
cat >"$WORK/view.py" <<'EOF'
import time
print("hello from the view script", flush=True)
while True:
    time.sleep(1)
EOF
timeout 300 "$OMV" "${CAM[@]}" view --scale 2 --show-controls --script "$WORK/view.py" >"$WORK/view.out" 2>"$WORK/view.err" &
VIEW_PID=$!
pids+=($VIEW_PID)
find_window() { [ -n "$(xdotool search --name "^omv: tcp:")" ]; }
# The window, or a failure at once if the view is gone; without it, its stderr says why.
window_shown() {
    find_window && return 0
    kill -0 "$VIEW_PID" 2>/dev/null || fail "omv view exited before its window showed"
    return 1
}
if ! (wait_for 60 "the live view window" window_shown); then
    echo "-- omv view stderr:" >&2; cat "$WORK/view.err" >&2
    echo "-- windows:" >&2; xdotool search --name . getwindowname %@ 2>&1 | head -20 >&2
    echo "-- Xvfb log:" >&2; cat "$WORK/xvfb.log" >&2
    fail "no live view window"
fi
WID=$(xdotool search --name "^omv: tcp:" | head -n 1)
shot() { import -window "$WID" "$1" 2>/dev/null; }
# match FILE W H CONDITION [pattern.py options]: the pattern is found in a screenshot and
# CONDITION (jq) holds; the screenshot is kept as FILE.
match() {
    shot "$WORK/shot.png" || return 1
    "$PY" "$TESTS/pattern.py" "$WORK/shot.png" --width "$2" --height "$3" "${@:5}" >"$WORK/match.json" || return 1
    jq -e "$4" "$WORK/match.json" >/dev/null || return 1
    cp "$WORK/shot.png" "$1"
}
wait_for 60 "the test pattern at zoom 2 in the window" \
    match "$OUT/view.png" 320 240 '.scale == 2 and .mean_error < 2.0 and .covered < 0.001'
ok "live view: pattern found at ($(jq -r '"\(.x), \(.y)"' "$WORK/match.json")), zoom $(jq .scale "$WORK/match.json"), mean error $(jq .mean_error "$WORK/match.json") (frame n = $(jq .n "$WORK/match.json"))"
N1=$(jq .n "$WORK/match.json")
wait_for 20 "the next frames in the window" match "$WORK/next.png" 320 240 ".n != $N1 and .mean_error < 2.0"
ok "live view: frames keep coming (n $N1 -> $(jq .n "$WORK/match.json"))"
wait_for 20 "the script's output on the view's stdout" grep -q "hello from the view script" "$WORK/view.out"
ok "live view: --script ran, its output printed"

press() { xdotool windowfocus --sync "$WID" key "$1"; }
click() { xdotool mousemove --window "$WID" "$1" "$2" click 1; }

# The controls panel writes back: its "mirror" toggle (7th row, at this layout's fixed
# position) makes the cam swap its frames left to right, which the screenshot must show.
X_PANEL=$(jq .x "$WORK/match.json")
[ "$X_PANEL" -gt 250 ] || fail "the controls panel is not left of the frame (frame at x $X_PANEL)"
click 81 183
wait_for 20 "the mirror toggle to mirror the frames" match "$OUT/view-mirrored.png" 320 240 \
    '.mean_error < 2.0 and .covered < 0.001' --mirrored
ok "live view: the controls panel's mirror toggle mirrored the cam's frames (mean error $(jq .mean_error "$WORK/match.json"))"
click 81 183
wait_for 20 "the mirror toggle to switch back" match "$WORK/unmirrored.png" 320 240 '.mean_error < 2.0'
press c
wait_for 20 "C to close the controls panel" match "$WORK/nopanel.png" 320 240 ".x < $X_PANEL and .mean_error < 2.0"
ok "live view: C closes the controls panel (frame moves from x $X_PANEL to $(jq .x "$WORK/match.json"))"

press p
wait_for 20 "P to open the profiler overlay" match "$OUT/view-profiler.png" 320 240 '.covered > 0.01'
ok "live view: P shows the profiler overlay over $(jq '.covered * 100 | floor' "$WORK/match.json")% of the frame"
press p
press p
wait_for 20 "P, P to close it again" match "$WORK/closed.png" 320 240 '.covered < 0.001 and .mean_error < 2.0'
ok "live view: P cycles the overlay off again"

# Through a lost link: the cam goes away and comes back (another frame size) on the same port.
kill -TERM "$VCAM_PID"
wait "$VCAM_PID" 2>/dev/null || true
start_vcam "$WORK/vcam2.log" --tcp "$ADDR" --width 160 --height 120
[ "$VCAM_ADDR" = "$ADDR" ] || fail "restarted cam on $VCAM_ADDR, not $ADDR"
wait_for 60 "the view to reconnect and show the new cam's frames" \
    match "$OUT/view-reconnected.png" 160 120 '.mean_error < 2.0 and .covered < 0.001'
ok "live view: reconnected to the restarted cam, its 160x120 frames at zoom $(jq .scale "$WORK/match.json")"
kill -0 "$VIEW_PID" || fail "the view exited"

press Escape
wait_for 20 "ESC to close the window" bash -c "! kill -0 $VIEW_PID 2>/dev/null"
wait "$VIEW_PID" || fail "the view's exit code after ESC"
ok "live view: ESC closes the window, exit 0 (screenshots in $OUT)"

# ---- bench, with openmv 1.0.7 in the same run ----
omv --json bench --seconds 2 --requests 200 --compare --python "$OPENMV_PY" >"$WORK/bench.json"
cp "$WORK/bench.json" "$OUT/bench.json"
jcheck "$WORK/bench.json" '.omv.frames > 0 and .openmv.frames > 0 and .openmv.version == "1.0.7"
    and (.ratio | .fps > 0 and .mb_per_s > 0 and .latency_p50 > 0 and .latency_p99 > 0)' "bench --compare --json"
jq -r '"bench (built-in cam on a pty, same run): omv \(.omv.fps | floor) frames/s \(.omv.mb_per_s * 100 | floor / 100) MB/s p50 \(.omv.latency_p50_us | floor) us p99 \(.omv.latency_p99_us | floor) us; openmv 1.0.7 \(.openmv.fps | floor) frames/s \(.openmv.mb_per_s * 100 | floor / 100) MB/s p50 \(.openmv.latency_p50_us | floor) us p99 \(.openmv.latency_p99_us | floor) us; ratios omv/openmv: fps \(.ratio.fps * 100 | floor / 100)x, MB/s \(.ratio.mb_per_s * 100 | floor / 100)x, latency p50 \(.ratio.latency_p50 * 100 | floor / 100)x, p99 \(.ratio.latency_p99 * 100 | floor / 100)x"' \
    "$WORK/bench.json"
echo "omv: all tests passed"
