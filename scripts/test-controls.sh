#!/usr/bin/env bash
# Typed controls (issue 11), idempotent, from anywhere:
#  1. golden blobs: Python cbor2 (venv target/venv-cbor2) writes the firmware's field maps
#     again; they must equal the committed tests/vectors/controls/*.cbor byte for byte;
#  2. the core: golden blobs decoded exactly and re-encoded to the same bytes, hostile blobs,
#     the device channel, property tests (tests/controls.rs, tests/controls_props.rs);
#  3. the virtual cam: every widget through the client, sets that change the frames' pixels;
#  4. the no_std core still builds for thumbv7em-none-eabihf; the firmware C API builds with
#     its `controls` feature, and include/openmvproto.h matches cbindgen;
#  5. the fuzz target controls_decode for OMV_CONTROLS_FUZZ_SECS (default 20) when
#     cargo-fuzz and a nightly toolchain are there.
# Uses $CARGO_TARGET_DIR (default <repo>/target).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
start=$(date +%s)
step() { printf '\n== [%ss] %s\n' "$(($(date +%s) - start))" "$*"; }

step "golden blobs from cbor2"
venv="$CARGO_TARGET_DIR/venv-cbor2"
if ! "$venv/bin/python" -c 'import cbor2' 2>/dev/null; then
    python3 -m venv --clear "$venv"
    timeout 300 "$venv/bin/pip" install -q cbor2
fi
gen="$CARGO_TARGET_DIR/controls-golden"
rm -rf "$gen"
timeout 60 "$venv/bin/python" tests/controls_golden.py "$gen"
n=0
for f in "$gen"/*.cbor; do
    cmp "$f" "tests/vectors/controls/$(basename "$f")"
    n=$((n + 1))
done
[ "$n" -eq "$(ls tests/vectors/controls/*.cbor | wc -l)" ] || { echo "committed vectors without a generator entry" >&2; exit 1; }
echo "$n blobs identical to the committed vectors"

# The test command ran these with the whole workspace already (OMV_WORKSPACE_TESTED=1).
if [[ -z ${OMV_WORKSPACE_TESTED:-} ]]; then
    step "core: golden, hostile, device channel, properties"
    timeout 1200 cargo test --release -p openmvproto --test controls --test controls_props

    step "virtual cam: every widget through the client, pixels"
    timeout 1200 cargo test --release -p openmvproto-vcam --test controls
    timeout 1200 cargo test --release -p openmvproto-vcam --lib controls::

    step "no_std core for thumbv7em-none-eabihf"
    timeout 1200 cargo build --release -p openmvproto --no-default-features --target thumbv7em-none-eabihf
fi

step "firmware C API (feature controls) and the C headers"
timeout 1200 cargo test --release -p openmvproto-firmware --features controls api_controls
scripts/check-header.sh
if command -v cbindgen >/dev/null; then
    tmp=$(mktemp)
    trap 'rm -f "$tmp"' EXIT
    cbindgen --config firmware/cbindgen.toml --crate openmvproto-firmware --output "$tmp" firmware 2>/dev/null
    diff -u firmware/include/openmvproto_fw.h "$tmp"
    echo "firmware/include/openmvproto_fw.h is up to date"
fi

secs=${OMV_CONTROLS_FUZZ_SECS:-20}
. scripts/tools.sh # cargo-fuzz
if command -v cargo-fuzz >/dev/null && rustup toolchain list | grep -q nightly; then
    step "fuzz: controls_decode (${secs} s)"
    (cd fuzz && CARGO_TARGET_DIR="$CARGO_TARGET_DIR/fuzz" timeout $((secs + 900)) cargo +nightly fuzz run controls_decode -- -max_total_time="$secs" 2>&1 | tail -n 3)
else
    step "fuzz: skipped (no cargo-fuzz or nightly; scripts/install-deps.sh installs them)"
fi
step "controls: all passed"
