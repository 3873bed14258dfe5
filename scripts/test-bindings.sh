#!/usr/bin/env bash
# End-to-end tests of the UniFFI bindings (bindings/uniffi) against the virtual cam:
#   1. gen      scripts/gen-bindings.sh --check: builds the cdylib, regenerates Kotlin and
#               Swift, fails if the committed Kotlin or Swift is stale
#   2. kotlin   bindings/kotlin-test/Main.kt compiled with the real Kotlin compiler against the
#               committed bindings/kotlin, run on the JVM through JNA (built-in TCP, a Kotlin
#               Transport over java.net.Socket)
#   3. swift    no Swift compiler here: tree-sitter-swift parses bindings/swift/OpenMVProto.swift
#               (only known grammar misreadings allowed), gcc checks the FFI header, and the
#               header, the library's exports and the Swift file's calls must name the same
#               functions
# Kotlin talks to an `omv-vcam --tcp 127.0.0.1:0` started here. Python users have the PyO3
# package instead (bindings/python, scripts/test-python.sh); UniFFI makes no Python module.
#
# Needs: cargo, node + npm (the npm registry), a JDK (java), /usr/share/java/jna.jar (Debian
# libjna-java), gcc. npm packages are installed
# on first use into target/npm (OMV_NPM_DIR); the Kotlin test jar is rebuilt only when its
# sources change. CARGO_TARGET_DIR is honoured.
#
# Ends with "bindings: N passed, M failed" (stages); exit 1 if any stage failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
export CARGO_TARGET_DIR="$TARGET"
NPM_DIR=${OMV_NPM_DIR:-$ROOT/target/npm}
KOTLIN_VERSION=2.4.20
TREE_SITTER_VERSION=0.22.4
TREE_SITTER_SWIFT_VERSION=0.7.1
JNA_JAR=${JNA_JAR:-/usr/share/java/jna.jar}
cd "$ROOT"

WORK=$(mktemp -d)
VCAM_PID=
cleanup() {
    if [[ -n $VCAM_PID ]]; then
        kill "$VCAM_PID" 2>/dev/null || true
        wait "$VCAM_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

STAGE_AREA=bindings
. "$ROOT/scripts/stages.sh"

# ---- prerequisites ----

npm_package_version() { # npm_package_version NAME: version installed in $NPM_DIR, or nothing
    local pj="$NPM_DIR/node_modules/$1/package.json"
    [[ -f $pj ]] && node -p "require('$pj').version" 2>/dev/null || true
}

ensure_npm() { # ensure_npm [npm flags...] NAME@VERSION...
    local flags=() specs=() missing=()
    for a in "$@"; do
        if [[ $a == -* ]]; then flags+=("$a"); else specs+=("$a"); fi
    done
    for spec in "${specs[@]}"; do
        [[ $(npm_package_version "${spec%@*}") == "${spec##*@}" ]] || missing+=("$spec")
    done
    if ((${#missing[@]})); then
        echo "installing ${missing[*]} into $NPM_DIR"
        mkdir -p "$NPM_DIR"
        npm install --prefix "$NPM_DIR" --no-audit --no-fund "${flags[@]}" "${specs[@]}" >/dev/null
    fi
}

for tool in cargo node npm java gcc nm; do
    command -v "$tool" >/dev/null || { echo "test-bindings: $tool not found" >&2; exit 1; }
done
[[ -f $JNA_JAR ]] || { echo "test-bindings: $JNA_JAR missing (apt-get install -y libjna-java)" >&2; exit 1; }
ensure_npm "kotlin-compiler@$KOTLIN_VERSION"
ensure_npm --ignore-scripts "tree-sitter@$TREE_SITTER_VERSION" "tree-sitter-swift@$TREE_SITTER_SWIFT_VERSION"
KOTLIN_HOME="$NPM_DIR/node_modules/kotlin-compiler"

# ---- 1. build and generate ----

stage gen scripts/gen-bindings.sh --check
scripts/release-build.sh -q # omv-vcam

case "$(uname -s)" in
    Darwin) LIBFILE=libopenmvproto_uniffi.dylib ;;
    *) LIBFILE=libopenmvproto_uniffi.so ;;
esac
LIB="$TARGET/release/$LIBFILE"

# ---- the virtual cam ----

"$TARGET/release/omv-vcam" --tcp 127.0.0.1:0 --log-level warn >"$WORK/vcam.out" 2>"$WORK/vcam.err" &
VCAM_PID=$!
ADDR=
for _ in $(seq 100); do
    ADDR=$(sed -n 's/^listening on //p' "$WORK/vcam.out")
    [[ -n $ADDR ]] && break
    kill -0 "$VCAM_PID" 2>/dev/null || break
    sleep 0.1
done
if [[ -z $ADDR ]]; then
    echo "test-bindings: omv-vcam did not start" >&2
    cat "$WORK/vcam.err" >&2
    exit 1
fi
echo "virtual cam at $ADDR"

# The Kotlin test makes listeners and transports throw on purpose: Rust must turn that into
# error values (From<UnexpectedUniFFICallbackError>), never a panic. Panics are printed on fd 2.
no_panics() { # no_panics STDERR_FILE
    if grep -q "panicked at" "$1"; then
        echo "test-bindings: Rust panicked:" >&2
        grep -A3 "panicked at" "$1" >&2
        return 1
    fi
}

# ---- 2. Kotlin ----

kotlin_tests() {
    local out="$TARGET/kotlin-test" jar stamp sum lib
    lib=$(scripts/kotlin-bindings-jar.sh "$KOTLIN_HOME" "$JNA_JAR") || return 1
    jar="$out/bindings-test.jar"
    stamp="$out/bindings-test.sha256"
    mkdir -p "$out"
    sum=$(cat "$lib" bindings/kotlin-test/Main.kt "$KOTLIN_HOME/build.txt" | sha256sum | cut -d' ' -f1)
    if [[ ! -f $jar || ! -f $stamp || $(cat "$stamp") != "$sum" ]]; then
        echo "compiling the Kotlin test (kotlinc $(cat "$KOTLIN_HOME/build.txt"))"
        rm -f "$jar" "$stamp"
        "$KOTLIN_HOME/bin/kotlinc" -nowarn -cp "$JNA_JAR:$lib" bindings/kotlin-test/Main.kt -d "$jar" || return 1
        echo "$sum" >"$stamp"
    fi
    local rc=0
    java -Djna.library.path="$(dirname "$LIB")" \
        -cp "$JNA_JAR:$KOTLIN_HOME/lib/kotlin-stdlib.jar:$lib:$jar" MainKt "$ADDR" 2>"$WORK/kotlin.err" || rc=1
    cat "$WORK/kotlin.err" >&2
    no_panics "$WORK/kotlin.err" || rc=1
    return $rc
}
stage kotlin kotlin_tests

kill "$VCAM_PID" 2>/dev/null || true
wait "$VCAM_PID" 2>/dev/null || true
VCAM_PID=

# ---- 3. Swift, as far as this machine allows ----

swift_checks() {
    local ok=0
    NODE_PATH="$NPM_DIR/node_modules" node bindings/swift-check/parse-swift.js bindings/swift/OpenMVProto.swift \
        >"$WORK/swift-parse.txt" || ok=1
    grep -E '^(known construct|swift-parse:|  UNEXPECTED)' "$WORK/swift-parse.txt"

    # The FFI header (what the modulemap exposes to Swift) is valid C.
    if echo '#include "OpenMVProtoFFI.h"' | gcc -fsyntax-only -std=c11 -Wall -Wextra -Wpedantic -Werror \
        -D_Nullable= -D_Nonnull= -I bindings/swift -x c -; then
        echo "swift-header: OpenMVProtoFFI.h compiles (gcc -std=c11 -Wall -Wextra -Wpedantic -Werror)"
    else
        echo "swift-header: OpenMVProtoFFI.h does not compile"
        ok=1
    fi

    # Header, library and Swift name the same FFI functions.
    local pat='\b(uniffi|ffi)_openmvproto_uniffi_[a-z0-9_]+'
    grep -oE "$pat\(" bindings/swift/OpenMVProtoFFI.h | tr -d '(' | sort -u >"$WORK/header.txt"
    nm -D --defined-only "$LIB" | awk '{print $3}' | grep -E "^(uniffi|ffi)_openmvproto_uniffi_" | sort -u >"$WORK/lib.txt"
    grep -oE "$pat" bindings/swift/OpenMVProto.swift | sort -u >"$WORK/swift.txt"
    local only_header only_lib undeclared
    only_header=$(comm -23 "$WORK/header.txt" "$WORK/lib.txt")
    only_lib=$(comm -13 "$WORK/header.txt" "$WORK/lib.txt")
    undeclared=$(comm -23 "$WORK/swift.txt" "$WORK/header.txt")
    if [[ -n $only_header || -n $only_lib || -n $undeclared ]]; then
        [[ -n $only_header ]] && echo "swift-symbols: declared, not exported: $only_header"
        [[ -n $only_lib ]] && echo "swift-symbols: exported, not declared: $only_lib"
        [[ -n $undeclared ]] && echo "swift-symbols: called from Swift, not declared: $undeclared"
        ok=1
    else
        echo "swift-symbols: $(wc -l <"$WORK/header.txt") FFI functions declared = exported;" \
            "the Swift file calls $(wc -l <"$WORK/swift.txt") of them, all declared"
    fi
    return $ok
}
stage swift swift_checks

stages_done
