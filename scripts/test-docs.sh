#!/usr/bin/env bash
# Tests of the book in docs/ (mdBook): every page true, every snippet built and run.
#   1. figures   docs/figures/*.dot (Graphviz) and *.msc (mscgen) regenerated; the committed
#                SVGs in docs/src/figures/ must be identical
#   2. mdbook    `mdbook build` (no error or warning: every {{#include}} resolves) and `mdbook test`
#   3. rust      the examples of the openmvproto-docs crate (docs/snippets): host_tour against
#                the virtual cam, the Rust cam (rust_cam) and the C firmware cam (fw_cam);
#                operator against rust_cam; operator_controls (typed controls) against the
#                virtual cam; embedded_vcam; the egui live view under Xvfb
#   4. c         docs/snippets/c/*.c with -Wall -Wextra -Werror, linked against libopenmvproto
#                (host) and libopenmvproto_firmware.a (cam); host_tour.c against the three cams
#   5. python    docs/snippets/python/*.py with the openmvproto wheel (bindings/python, built
#                with maturin) in target/venv-docs: host_tour against the three cams,
#                operator_config against rust_cam, operator_controls against the virtual cam,
#                the Tk live view under Xvfb
#   6. kotlin    docs/snippets/kotlin/HostTour.kt compiled with kotlinc against bindings/kotlin
#                and JNA, run against the virtual cam and rust_cam
#   7. links     rustdoc (cargo doc) copied to target/book/api; every internal link and anchor
#                of the built book must resolve
#   8. shots     headless Chromium screenshots of two pages: target/docs-shots/*.png
# Installs what it needs on first use (apt: graphviz mscgen chromium xvfb xauth libjna-java and
# Mesa for the GUI; target/tools (scripts/tools.sh): mdbook; npm: kotlin-compiler into target/npm; pip: numpy, maturin
# into target/venv-docs). CARGO_TARGET_DIR is honoured.
# Ends with "docs: N passed, M failed" (stages); exit 1 if any stage failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
export CARGO_TARGET_DIR="$TARGET"
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in docs/snippets
MATURIN_VERSION=1.16.0
KOTLIN_VERSION=2.4.20
NPM_DIR=${OMV_NPM_DIR:-$TARGET/npm}
KOTLIN_HOME="$NPM_DIR/node_modules/kotlin-compiler"
JNA_JAR=/usr/share/java/jna.jar
VENV="$TARGET/venv-docs"
BOOK="$TARGET/book"
SHOTS="$TARGET/docs-shots"
BIN="$TARGET/docs-bin" # the C and Kotlin builds
REL="$TARGET/release"
cd "$ROOT"

WORK=$(mktemp -d /tmp/test-docs-XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

STAGE_AREA=docs
. "$ROOT/scripts/stages.sh"

# ---- prerequisites ----

apt_need=()
for p in graphviz mscgen chromium xvfb xauth libjna-java libgl1-mesa-dri libegl1 libgl1 \
    libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6; do
    dpkg -s "$p" >/dev/null 2>&1 || apt_need+=("$p")
done
if ((${#apt_need[@]})); then
    echo "installing ${apt_need[*]}"
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q -o DPkg::Lock::Timeout=300 \
        --no-install-recommends "${apt_need[@]}" >/dev/null ||
        { timeout 600 apt-get update -q >/dev/null &&
            DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q -o DPkg::Lock::Timeout=300 \
                --no-install-recommends "${apt_need[@]}" >/dev/null; }
fi
. scripts/tools.sh # mdbook
if [[ ! -f $KOTLIN_HOME/build.txt ]] ||
    [[ $(node -p "require('$KOTLIN_HOME/package.json').version" 2>/dev/null) != "$KOTLIN_VERSION" ]]; then
    echo "installing kotlin-compiler $KOTLIN_VERSION into $NPM_DIR"
    mkdir -p "$NPM_DIR"
    timeout 900 npm install --prefix "$NPM_DIR" --no-audit --no-fund "kotlin-compiler@$KOTLIN_VERSION" >/dev/null
fi
if ! "$VENV/bin/python" -c 'import numpy, tkinter' 2>/dev/null ||
    [[ $("$VENV/bin/maturin" --version 2>/dev/null) != "maturin $MATURIN_VERSION" ]]; then
    py312=$(ls -d "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/3.12.*/bin/python3 2>/dev/null | tail -n 1)
    echo "making $VENV (${py312:-python3})"
    "${py312:-python3}" -m venv --clear "$VENV"
    timeout 900 "$VENV/bin/python" -m pip install -q numpy "maturin==$MATURIN_VERSION"
fi

# ---- builds ----

# What every stage needs: the cams. Each stage builds the rest it needs itself.
echo "building the examples, omv-vcam and the firmware library (cargo, release)"
timeout 1800 scripts/release-build.sh -q
# The firmware's host library on its own: in the workspace build the core has `std` (the
# other members want it), which a C program linking the firmware library must not need.
timeout 1800 cargo build --release -q -p openmvproto-firmware
mkdir -p "$BIN"

# ---- cams ----

# start_cam VAR COMMAND...: starts a cam that prints "listening on ADDR"; ADDR goes to $VAR.
start_cam() {
    local var=$1 out="$WORK/$1.out" addr="" pid
    shift
    "$@" >"$out" 2>"$WORK/$var.err" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 200); do
        addr=$(sed -n 's/^listening on //p' "$out")
        [[ -n $addr ]] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if [[ -z $addr ]]; then
        echo "test-docs: $* did not start" >&2
        cat "$WORK/$var.err" >&2
        exit 1
    fi
    printf -v "$var" '%s' "$addr"
    echo "$var at $addr"
}

# ---- 1. figures ----

figures() {
    local ok=0 src name out
    mkdir -p "$WORK/figures"
    for src in docs/figures/*.dot docs/figures/*.msc; do
        name=$(basename "${src%.*}")
        out="$WORK/figures/$name.svg"
        case $src in
            *.dot) dot -Tsvg "$src" -o "$out" ;;
            *.msc) mscgen -T svg -i "$src" -o "$out" ;;
        esac
        if cmp -s "$out" "docs/src/figures/$name.svg"; then
            echo "figure $name.svg: current"
        else
            echo "figure $name.svg: stale or missing; regenerate it from $src"
            ok=1
        fi
    done
    return $ok
}
stage figures figures

# ---- 2. mdbook ----

book() {
    rm -rf "$BOOK"
    (cd docs && timeout 300 mdbook build) >"$WORK/mdbook.log" 2>&1 || { cat "$WORK/mdbook.log"; return 1; }
    if grep -E '(ERROR|WARN)' "$WORK/mdbook.log"; then
        return 1 # e.g. an {{#include}} that did not resolve
    fi
    echo "mdbook build: $(find "$BOOK" -name '*.html' | wc -l) pages in $BOOK"
    (cd docs && timeout 300 mdbook test) >"$WORK/mdbook-test.log" 2>&1 || { cat "$WORK/mdbook-test.log"; return 1; }
    if grep -E '(ERROR|WARN)' "$WORK/mdbook-test.log"; then
        return 1
    fi
    echo "mdbook test: passed"
}
stage mdbook book

# ---- the three cams every host snippet runs against ----

start_cam VCAM "$REL/omv-vcam" --tcp 127.0.0.1:0 --log-level warn
start_cam RUST_CAM "$REL/examples/rust_cam" 127.0.0.1:0
gcc -std=c11 -Wall -Wextra -Werror -I firmware/include docs/snippets/c/fw_cam.c \
    "$REL/libopenmvproto_firmware.a" -o "$BIN/fw_cam"
start_cam FW_CAM "$BIN/fw_cam" 0

# run NAME COMMAND...: runs one snippet with a time limit, its output indented.
run() {
    local name=$1
    shift
    echo "--- $name"
    if timeout 60 "$@" >"$WORK/run.out" 2>&1; then
        sed 's/^/    /' "$WORK/run.out"
    else
        sed 's/^/    /' "$WORK/run.out"
        echo "--- $name FAILED"
        return 1
    fi
}

# Prefix for a command on a private X server (Xvfb) with software GL.
XRUN=(env LIBGL_ALWAYS_SOFTWARE=1 xvfb-run -a -s "-screen 0 1280x1024x24")

# ---- 3. Rust ----

rust_snippets() {
    local ok=0 cam
    for cam in VCAM RUST_CAM FW_CAM; do
        run "host_tour (Rust) against $cam" "$REL/examples/host_tour" "${!cam}" || ok=1
    done
    run "operator (Rust) against RUST_CAM" "$REL/examples/operator" "$RUST_CAM" || ok=1
    run "operator_controls (Rust) against VCAM" "$REL/examples/operator_controls" "$VCAM" || ok=1
    run "embedded_vcam (Rust)" "$REL/examples/embedded_vcam" || ok=1
    run "live_view (Rust, egui) against VCAM under Xvfb" "${XRUN[@]}" "$REL/examples/live_view" "$VCAM" --exit-after 20 || ok=1
    grep -q "live_view: showed [0-9]* frames" "$WORK/run.out" || ok=1
    return $ok
}
stage rust rust_snippets

# ---- 4. C ----

c_snippets() {
    local ok=0 cam
    # The same command as CMakeLists.txt, so both share one build of libopenmvproto.so / .a.
    timeout 1800 cargo rustc --release -q --lib --features capi --crate-type cdylib,staticlib \
        -- -C link-arg=-Wl,-soname,libopenmvproto.so.0 || return 1
    gcc -std=c11 -Wall -Wextra -Werror -I include docs/snippets/c/host_tour.c \
        "$REL/libopenmvproto.a" -lpthread -ldl -lm -o "$BIN/host_tour" || return 1
    echo "compiled docs/snippets/c/host_tour.c, docs/snippets/c/fw_cam.c (gcc -std=c11 -Wall -Wextra -Werror)"
    for cam in VCAM RUST_CAM FW_CAM; do
        run "host_tour.c against $cam" "$BIN/host_tour" "${!cam}" || ok=1
    done
    return $ok
}
stage c c_snippets

# ---- 5. Python ----

python_snippets() {
    local ok=0 cam wheel
    rm -rf "$WORK/wheels"
    # maturin builds the extension with cargo in $CARGO_TARGET_DIR; a no-op when unchanged.
    # pyo3 is rebuilt whenever the interpreter changes: build with the one scripts/test-python.sh
    # uses when it is there (the abi3 wheel installs into this 3.12 venv all the same).
    local interp="$TARGET/venv-python-3.11/bin/python"
    [[ -x $interp ]] || interp="$VENV/bin/python"
    (cd bindings/python && timeout 1800 "$VENV/bin/maturin" build --release -q --out "$WORK/wheels" \
        --interpreter "$interp") >"$WORK/maturin.log" 2>&1 || { cat "$WORK/maturin.log"; return 1; }
    wheel=$(ls "$WORK"/wheels/openmvproto-*.whl)
    "$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$wheel"
    echo "installed $(basename "$wheel") into $VENV"
    for cam in VCAM RUST_CAM FW_CAM; do
        run "host_tour.py against $cam" "$VENV/bin/python" docs/snippets/python/host_tour.py "${!cam}" || ok=1
    done
    run "operator_config.py against RUST_CAM" "$VENV/bin/python" docs/snippets/python/operator_config.py "$RUST_CAM" || ok=1
    run "operator_controls.py against VCAM" "$VENV/bin/python" docs/snippets/python/operator_controls.py "$VCAM" || ok=1
    run "live_view_tk.py against VCAM under Xvfb" "${XRUN[@]}" "$VENV/bin/python" docs/snippets/python/live_view_tk.py \
        "$VCAM" --exit-after 20 || ok=1
    return $ok
}
stage python python_snippets

# ---- 6. Kotlin ----

kotlin_snippets() {
    local ok=0 cam jar="$BIN/docs-kotlin.jar" stamp="$BIN/docs-kotlin.sha256" sum lib
    [[ -f $JNA_JAR ]] || { echo "$JNA_JAR missing" >&2; return 1; }
    timeout 1800 cargo build --release -q -p openmvproto-uniffi || return 1
    lib=$(scripts/kotlin-bindings-jar.sh "$KOTLIN_HOME" "$JNA_JAR") || return 1
    sum=$(cat "$lib" docs/snippets/kotlin/*.kt "$KOTLIN_HOME/build.txt" | sha256sum | cut -d' ' -f1)
    if [[ ! -f $jar || ! -f $stamp || $(cat "$stamp") != "$sum" ]]; then
        echo "compiling docs/snippets/kotlin/*.kt with kotlinc $(cat "$KOTLIN_HOME/build.txt")"
        rm -f "$jar" "$stamp"
        timeout 600 "$KOTLIN_HOME/bin/kotlinc" -nowarn -cp "$JNA_JAR:$lib" docs/snippets/kotlin/*.kt -d "$jar" || return 1
        echo "$sum" >"$stamp"
    fi
    for cam in VCAM RUST_CAM; do
        run "HostTour.kt against $cam" java -Djna.library.path="$REL" \
            -cp "$JNA_JAR:$KOTLIN_HOME/lib/kotlin-stdlib.jar:$lib:$jar" HostTourKt "${!cam}" || ok=1
    done
    return $ok
}
stage kotlin kotlin_snippets

# ---- 7. rustdoc and links ----

links() {
    # Rustdoc's warnings fail the test command's docs step (scripts/test-all.sh); here only a failed build does.
    timeout 1200 cargo doc --release -q --no-deps -p openmvproto -p openmvproto-vcam >"$WORK/doc.log" 2>&1 ||
        { cat "$WORK/doc.log"; return 1; }
    rm -rf "$BOOK/api"
    cp -r "$TARGET/doc" "$BOOK/api"
    "$VENV/bin/python" docs/tools/check_links.py "$BOOK"
}
stage links links

# ---- 8. screenshots ----

shots() {
    local ok=0 page name
    mkdir -p "$SHOTS"
    # PAGE:NAME:COLOUR; the overview's colour is the transport box's fill in overview.dot.
    for page in introduction.html:overview:255,246,224 channels/callbacks.html:code-page:; do
        IFS=: read -r page name colour <<<"$page"
        rm -f "$SHOTS/$name.png"
        timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
            --disable-background-networking --disable-component-update --disable-sync \
            --user-data-dir="$WORK/chromium-$name" --hide-scrollbars --window-size=1280,1400 \
            --screenshot="$SHOTS/$name.png" "file://$BOOK/$page" >"$WORK/chromium.log" 2>&1 || true
        "$VENV/bin/python" docs/tools/check_png.py "$SHOTS/$name.png" $colour || { cat "$WORK/chromium.log"; ok=1; }
    done
    return $ok
}
stage shots shots

stages_done
