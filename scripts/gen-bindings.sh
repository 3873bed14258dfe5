#!/usr/bin/env bash
# Builds libopenmvproto_uniffi (release) and generates its bindings in UniFFI library mode:
#   Kotlin -> bindings/kotlin/io/openmv/proto/openmvproto.kt   (committed)
#   Swift  -> bindings/swift/{OpenMVProto.swift,OpenMVProtoFFI.h,OpenMVProtoFFI.modulemap} (committed)
# (No Python: Python users have the PyO3 package, bindings/python.)
#
#   scripts/gen-bindings.sh           regenerate (overwrites the committed Kotlin and Swift)
#   scripts/gen-bindings.sh --check   regenerate into the target dir only; fail if the
#                                     committed Kotlin / Swift differ from what it generated
#
# CARGO_TARGET_DIR is honoured (default: <repo>/target). The generator runs from the repo
# root: library mode calls `cargo metadata` to find bindings/uniffi/uniffi.toml.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
CHECK=0
case "${1:-}" in
    --check) CHECK=1 ;;
    "") ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

case "$(uname -s)" in
    Darwin) LIBFILE=libopenmvproto_uniffi.dylib ;;
    *) LIBFILE=libopenmvproto_uniffi.so ;;
esac

cd "$ROOT"
export CARGO_TARGET_DIR="$TARGET"
# The library and the generator from the shared release build (a no-op once the test command
# built it): a `-p` build of either resolves features on its own and builds 40 crates again,
# about 3.5 minutes. The library is then the workspace's build (features unified with the
# other members: 2% larger than a `-p` build, no CLI code; its exports are the same).
scripts/release-build.sh -q
LIB="$TARGET/release/$LIBFILE"
BINDGEN="$TARGET/release/uniffi-bindgen"

GEN="$TARGET/uniffi-gen"
rm -rf "$GEN"
mkdir -p "$GEN"
for lang in kotlin swift; do
    # --no-format: the output must not depend on ktlint / swiftformat being installed.
    "$BINDGEN" generate --library "$LIB" --language "$lang" --out-dir "$GEN/$lang" \
        --no-format --metadata-no-deps >/dev/null
done

KOTLIN_FILE=io/openmv/proto/openmvproto.kt
SWIFT_FILES=(OpenMVProto.swift OpenMVProtoFFI.h OpenMVProtoFFI.modulemap)

if [[ $CHECK == 1 ]]; then
    status=0
    for f in "$KOTLIN_FILE"; do
        if ! cmp -s "$GEN/kotlin/$f" "bindings/kotlin/$f"; then
            echo "gen-bindings: bindings/kotlin/$f is stale (run scripts/gen-bindings.sh)" >&2
            diff -u "bindings/kotlin/$f" "$GEN/kotlin/$f" | head -40 >&2 || true
            status=1
        fi
    done
    for f in "${SWIFT_FILES[@]}"; do
        if ! cmp -s "$GEN/swift/$f" "bindings/swift/$f"; then
            echo "gen-bindings: bindings/swift/$f is stale (run scripts/gen-bindings.sh)" >&2
            diff -u "bindings/swift/$f" "$GEN/swift/$f" | head -40 >&2 || true
            status=1
        fi
    done
    # Anything generated that is not committed (a new file) is stale too.
    extra=$( (cd "$GEN/kotlin" && find . -type f) | sed 's|^\./||' | grep -vxF "$KOTLIN_FILE" || true)
    extra+=$( (cd "$GEN/swift" && find . -type f) | sed 's|^\./||' | grep -vxF -f <(printf '%s\n' "${SWIFT_FILES[@]}") || true)
    if [[ -n $extra ]]; then
        echo "gen-bindings: generated files this script does not know: $extra" >&2
        status=1
    fi
    if [[ $status == 0 ]]; then
        echo "gen-bindings: committed Kotlin and Swift bindings are up to date"
    fi
    exit $status
fi

mkdir -p "bindings/kotlin/$(dirname "$KOTLIN_FILE")" bindings/swift
cp "$GEN/kotlin/$KOTLIN_FILE" "bindings/kotlin/$KOTLIN_FILE"
for f in "${SWIFT_FILES[@]}"; do
    cp "$GEN/swift/$f" "bindings/swift/$f"
done
echo "gen-bindings: wrote bindings/kotlin/$KOTLIN_FILE, bindings/swift/{$(IFS=,; echo "${SWIFT_FILES[*]}")}"
