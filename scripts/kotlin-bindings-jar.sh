#!/usr/bin/env bash
# Compiles the generated Kotlin bindings (bindings/kotlin, 6,700 lines: most of a kotlinc run)
# once into a jar that the bindings test and the book's snippets both compile against; rebuilt
# only when the bindings or the compiler change. Prints the jar's path.
#   scripts/kotlin-bindings-jar.sh KOTLIN_HOME JNA_JAR
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KOTLIN_HOME=$1 JNA_JAR=$2
OUT="${CARGO_TARGET_DIR:-$ROOT/target}/kotlin-bindings"
SRC="$ROOT/bindings/kotlin/io/openmv/proto/openmvproto.kt"
jar="$OUT/openmvproto-bindings.jar" stamp="$OUT/openmvproto-bindings.sha256"
mkdir -p "$OUT"
sum=$(cat "$SRC" "$KOTLIN_HOME/build.txt" | sha256sum | cut -d' ' -f1)
if [[ ! -f $jar || ! -f $stamp || $(cat "$stamp") != "$sum" ]]; then
    echo "compiling the Kotlin bindings (kotlinc $(cat "$KOTLIN_HOME/build.txt"))" >&2
    rm -f "$jar" "$stamp"
    timeout 900 "$KOTLIN_HOME/bin/kotlinc" -nowarn -cp "$JNA_JAR" "$SRC" -d "$jar" >&2
    echo "$sum" >"$stamp"
fi
echo "$jar"
