#!/bin/sh
# Measures what the engine adds to a bare-metal image: links size/probe.c (device role) against
# the staticlib with --gc-sections (every exported function kept) and without the library, and
# prints the differences. Both images take memcpy/memmove/memset/memcmp (and their __aeabi_*
# aliases) from newlib, as a firmware does; those routines are counted apart, and the
# library must not bring its own (compiler-builtins) copies. Flash = text + data (.text,
# .rodata, unwind tables, .data image); static RAM = omv_fw_storage_size() (printed by the
# probe under QEMU) + the library's own .data + .bss. Fails when the image holds formatting
# code (core::fmt) or compiler-builtins memory routines.
#   measure.sh LIB.a OUTDIR      (MEASURE_ALLOW_FMT=1: formatting code only reported, for the
#                                  non-LTO comparison build, which links it)
# Prints a human summary, and writes OUTDIR/figures (shell variables: flash, mem, storage,
# ram_lib) for firmware/test.sh.
set -eu
LIB=$1 OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
CAM=$HERE/../qemu-cam
mkdir -p "$OUT"
. "$HERE/link-env.sh"
CFLAGS="$PROBE_CFLAGS -Wno-cast-function-type"
TRACE=$(for s in $MEMSYMS; do printf -- '-Wl,-y,%s ' "$s"; done)

# shellcheck disable=SC2086
arm-none-eabi-gcc $CFLAGS -I"$CAM" $LDFLAGS $UNDEF -Wl,-Map="$OUT/measure-base.map" \
    -o "$OUT/measure-base.elf" "$PROBE" $BOARD -lc -lgcc
# shellcheck disable=SC2086
arm-none-eabi-gcc $CFLAGS -DWITH_DEVICE -I"$CAM" -I"$HERE/../include" $LDFLAGS $UNDEF $TRACE \
    -Wl,-Map="$OUT/measure-lib.map" -o "$OUT/measure-lib.elf" "$PROBE" $BOARD \
    -lc "$LIB" -lc -lgcc >"$OUT/mem-trace.txt" 2>&1 || { cat "$OUT/mem-trace.txt" >&2; exit 1; }

# Berkeley format: text data bss dec hex filename.
set -- $(arm-none-eabi-size "$OUT/measure-base.elf" | awk 'NR==2 {print $1, $2, $3}')
bt=$1 bd=$2 bb=$3
set -- $(arm-none-eabi-size "$OUT/measure-lib.elf" | awk 'NR==2 {print $1, $2, $3}')
lt=$1 ld=$2 lb=$3

# The newlib routines in the engine image (present in the base image too, as in any firmware).
mem=0
for s in $(arm-none-eabi-nm -S "$OUT/measure-lib.elf" |
    awk '$3 ~ /^[Tt]$/ && $4 ~ /^(memcpy|memmove|memset|memcmp|__aeabi_mem[a-z0-9]*)$/ {print $1 "-" $2}' |
    sort -u | sed 's/.*-//'); do   # aliases share an address: count each body once
    mem=$((mem + 0x$s))
done
# Every memory routine comes from libc.a: the linker's trace names each definition it saw.
grep -q 'libc.a(.*definition of memcpy' "$OUT/mem-trace.txt" ||
    { cat "$OUT/mem-trace.txt" >&2; echo "measure.sh: memcpy did not come from newlib" >&2; exit 1; }
if grep -v 'libc.a(' "$OUT/mem-trace.txt" | grep -q 'definition of'; then
    grep -v 'libc.a(' "$OUT/mem-trace.txt" | grep 'definition of' >&2
    echo "measure.sh: the library brings its own memory routines (newlib's must be used)" >&2
    exit 1
fi
# No formatting code: the panic handler formats nothing and no Debug/Display impl is reachable.
fmt=$(fmt_symbols "$OUT/measure-lib.elf")
if [ "$fmt" != 0 ] && [ "${MEASURE_ALLOW_FMT:-0}" != 1 ]; then
    arm-none-eabi-nm -C "$OUT/measure-lib.elf" | grep -E 'core::fmt' | head >&2
    echo "measure.sh: the linked image holds formatting code ($fmt symbols)" >&2
    exit 1
fi

# The storage the C side must reserve, as the target computes it.
storage=$(probe_value "$OUT/measure-lib.elf" device_storage)

flash=$(( (lt + ld) - (bt + bd) ))
ram_lib=$(( (ld + lb) - (bd + bb) ))
echo "  flash $flash B (text+rodata $(( lt - bt )), data $(( ld - bd ))); newlib memory routines" \
    "$mem B counted apart (also in the image without the engine); $fmt core::fmt symbols"
echo "  instance storage $storage B; library .data/.bss $ram_lib B"
printf 'flash=%s\nmem=%s\nstorage=%s\nram_lib=%s\n' "$flash" "$mem" "$storage" "$ram_lib" >"$OUT/figures"
