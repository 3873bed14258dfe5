#!/bin/sh
# The hw-crc flash measured like for like with the C engine's gcc -Os figures, which keep no
# frame pointers. Rust's built-in thumbv7em-none-eabihf forces them ("frame-pointer":
# "always" in its spec: a push of r7 and a `mov r7, sp` in nearly every function), and no
# stable flag turns that off. So this builds with nightly against a copy of the built-in spec
# that may omit them (core rebuilt for it by -Zbuild-std), measures it with measure.sh and
# prints "flash=N", or "flash=" and why not on stderr (no nightly, a nightly that reads specs
# differently). Informative: firmware/test.sh's ceilings apply to the stable build.
#   firmware/size/no-frame-pointers.sh OUTDIR
set -eu
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
mkdir -p "$OUT"
SPEC=$OUT/thumbv7em-nofp.json
fail() { echo "no-frame-pointers: $*" >&2; echo "flash="; exit 0; }
rustc +nightly -Z unstable-options --print target-spec-json --target thumbv7em-none-eabihf \
    >"$OUT/builtin.json" 2>/dev/null || fail "no nightly rustc that prints target specs"
sed 's/"frame-pointer": "always"/"frame-pointer": "may-omit"/' "$OUT/builtin.json" >"$SPEC"
grep -q '"frame-pointer": "may-omit"' "$SPEC" || fail "the built-in spec no longer forces frame pointers"
cd "$ROOT"
cargo +nightly rustc -q -Zjson-target-spec -Zbuild-std=core -p openmvproto-firmware --profile firmware \
    --target "$SPEC" --features hw-crc --crate-type staticlib --target-dir "$CARGO_TARGET_DIR/fw-nofp" \
    >"$OUT/build.log" 2>&1 || fail "nightly build failed ($(tail -n 1 "$OUT/build.log"))"
"$HERE/measure.sh" "$CARGO_TARGET_DIR/fw-nofp/thumbv7em-nofp/firmware/libopenmvproto_firmware.a" "$OUT" \
    >"$OUT/measure.log" 2>&1 || fail "measure.sh refused the image ($(tail -n 1 "$OUT/measure.log"))"
. "$OUT/figures"
echo "flash=$flash"
