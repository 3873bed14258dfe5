#!/bin/sh
# Regenerates include/openmvproto.h from src/capi with cbindgen and fails if it differs from
# the committed header, or if cbindgen given the whole crate (its default) makes another one:
# src/lib.rs keeps the Rust-only modules out of its sight. `--write` updates the committed
# header instead.
# Uses $CBINDGEN, else `cbindgen` on PATH (Debian's 0.24.3 is what the header was made with).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cbindgen=${CBINDGEN:-cbindgen}
header="$root/include/openmvproto.h"
tmp=$(mktemp "${TMPDIR:-/tmp}/openmvproto.h.XXXXXX")
whole=$(mktemp "${TMPDIR:-/tmp}/openmvproto-crate.h.XXXXXX")
log=$(mktemp "${TMPDIR:-/tmp}/cbindgen.log.XXXXXX")
trap 'rm -f "$tmp" "$whole" "$log"' EXIT

if ! command -v "$cbindgen" >/dev/null 2>&1; then
    echo "check-header: $cbindgen not found (apt-get install cbindgen, or set CBINDGEN)" >&2
    exit 2
fi
# cbindgen reports skipped private items on stderr; show its log only on failure.
if ! (cd "$root" && "$cbindgen" --config cbindgen.toml --output "$tmp" src/capi/mod.rs &&
    "$cbindgen" --config cbindgen.toml --crate openmvproto --output "$whole") >"$log" 2>&1; then
    cat "$log" >&2
    echo "check-header: cbindgen failed" >&2
    exit 1
fi
if ! diff -u "$tmp" "$whole" >"$log"; then
    head -n 40 "$log" >&2
    echo "check-header: cbindgen given the whole crate makes another header than src/capi alone" >&2
    exit 1
fi
if [ "${1:-}" = "--write" ]; then
    cp "$tmp" "$header"
    echo "check-header: wrote $header ($("$cbindgen" --version))"
    exit 0
fi
if ! diff -u "$header" "$tmp"; then
    echo "check-header: include/openmvproto.h is stale; run scripts/check-header.sh --write" >&2
    exit 1
fi
echo "check-header: include/openmvproto.h is up to date ($("$cbindgen" --version))"
