#!/usr/bin/env bash
# Every test of the project, as CI runs it (.ci/run calls exactly this). Installs what it
# needs first (idempotent). One cargo target dir, one release build shared by every step.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export CARGO_TERM_COLOR=never
T0=$(date +%s)
step() { printf '\n==== [%4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }

step "dependencies"
scripts/install-deps.sh
. scripts/tools.sh # mdbook, cargo-fuzz on PATH

step "format"
cargo fmt --all -- --check

step "release build: every crate's libraries, binaries, examples, tests and benches, once"
scripts/release-build.sh
REL=$CARGO_TARGET_DIR/release

step "lint: clippy, warnings are errors; every unsafe block has its SAFETY comment"
cargo clippy -q --release --workspace --all-targets -- -D warnings -D clippy::undocumented_unsafe_blocks

step "docs: rustdoc of every library crate and app, warnings (broken links, stray HTML, an undocumented public item of the core) are errors"
# --release: the dependencies' metadata clippy just built serves rustdoc too.
RUSTDOCFLAGS="-D warnings" cargo doc -q --release --no-deps --workspace --exclude openmvproto-uniffi-bindgen
RUSTDOCFLAGS="-D warnings" cargo doc -q --release --no-deps -p openmvproto --all-features
RUSTDOCFLAGS="-D warnings" cargo doc -q --release --no-deps -p openmvproto --no-default-features

step "minimum Rust: every rust-version covers what its crate builds with; the core and the firmware crate compile with it"
scripts/check-msrv.sh

step "core: no_std builds for a Cortex-M7 (thumbv7em-none-eabihf)"
cargo build -q --release -p openmvproto --no-default-features --target thumbv7em-none-eabihf
cargo build -q --release -p openmvproto --no-default-features --features alloc --target thumbv7em-none-eabihf

step "Windows: the core, omv-vcam and omv type-check for x86_64-pc-windows-gnu (no pty there: TCP)"
cargo check -q --release --target x86_64-pc-windows-gnu -p openmvproto -p openmvproto-vcam -p omv --lib --bins

step "unit, golden, back-to-back, fault, property and end-to-end tests"
cargo test --release --workspace
export OMV_WORKSPACE_TESTED=1 # the area scripts below skip the cargo tests this just ran

step "main job: the omv live view against the built-in virtual cam (Xvfb), frames saved"
LIBGL_ALWAYS_SOFTWARE=1 timeout 120 xvfb-run -a "$REL/omv" view --exit-after 5 --quiet
"$REL/omv" frames --count 3 --out "$CARGO_TARGET_DIR/live_view" --format png
"$REL/examples/save_frames" --frames 3 --out "$CARGO_TARGET_DIR/live_view"
"$REL/examples/config_channel"

step "miri: the firmware crate's unsafe code (both roles' C APIs, typed controls, the interrupt ring across threads) and the core's, checked by Miri"
cargo +nightly miri setup -q
cargo +nightly miri test -q -p openmvproto-firmware --features host,controls --lib --test c_api_borrows
# The core's own unsafe (constructors built in place, the registry's `NoBoard`) and the test
# rig that lends channels to a registry, without a heap in the engine: its unit tests and the
# no-heap host/device tests, but for the two sweeps and the proptests (named `any_`), which
# take minutes under Miri and run natively above. The rig leaks its channels on purpose, hence
# ignore-leaks.
MIRIFLAGS=-Zmiri-ignore-leaks cargo +nightly miri test -q -p openmvproto --no-default-features --features alloc \
    --lib --test host_noalloc -- --skip any_ --skip fragment_sizes --skip every_opcode_with

step "fuzz: device and host receive paths, the cam's C API (cargo-fuzz, 20 s each)"
for target in device_rx host_rx fw_rx; do
    (cd fuzz && CARGO_TARGET_DIR="$CARGO_TARGET_DIR/fuzz" cargo +nightly fuzz run "$target" -- -max_total_time=20 2>&1 | tail -n 2)
done

step "benchmark: framing throughput against memcpy and CRC-32"
cargo bench -q --workspace --bench framing

step "interop: the real openmv 1.0.7 client against omv-vcam over a pty"
tests/interop/run.sh

step "benchmark: frame streaming, this client and openmv 1.0.7, same cam, same run, beside the raw pty rate"
cargo bench -q --workspace --bench stream

step "benchmark: host cost, a fleet of 64 cams read by one process, request latency against a bare round trip"
cargo bench -q --workspace --bench host_cost

step "firmware: static library, size, C API tests, emulated Cortex-M7 under QEMU"
firmware/test.sh --openmv

step "cam to cam: the no-heap host role on one emulated Cortex-M7 reading another over UARTs, with faults"
firmware/cam2cam/test.sh --no-rust  # its Rust tests ran with the workspace

step "typed controls: cbor2 golden blobs, hostile blobs, every widget through the vcam, fuzz"
scripts/test-controls.sh

step "C ABI: header, cargo-c, CMake, ctest, sanitizers"
scripts/test-capi.sh

step "omv: every subcommand, the live view under Xvfb (screenshot, keys), run --follow in tmux, bench"
scripts/test-omv.sh

step "bindings: UniFFI Kotlin (kotlinc + JNA), Swift (generated, parsed)"
scripts/test-bindings.sh

step "python package: wheel (maturin), pytest under 3.11 and 3.12, compatibility and speed against openmv 1.0.7"
scripts/test-python.sh

step "the book: figures, mdbook build and test, every snippet run, links, screenshots"
scripts/test-docs.sh

step "all tests passed"
