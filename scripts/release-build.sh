#!/usr/bin/env bash
# The release build every test script shares: each workspace crate's libraries, binaries,
# examples, tests and benches in one cargo invocation. Cargo resolves features per
# invocation (`-p X`, or a build without tests, picks other features of shared dependencies
# and builds them again), so scripts run what this built from $CARGO_TARGET_DIR/release
# instead of `cargo run -p`. A no-op once built. Extra arguments go to cargo (-q).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo build --release --locked --workspace --all-targets "$@"
