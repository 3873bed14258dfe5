#!/bin/sh
# Measures what the engine adds to a bare-metal image: links size/measure.c against the
# staticlib with --gc-sections (every exported function kept) and without the library, and
# prints the differences. Flash = text + data (.text, .rodata, unwind tables, .data image);
# static RAM = omv_fw_storage_size() (printed by the probe under QEMU) + the library's own
# .data + .bss.
#   measure.sh LIB.a OUTDIR [SUMMARY_FILE]
set -eu
LIB=$1 OUT=$2 SUMMARY=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
CAM=$HERE/../qemu-cam
mkdir -p "$OUT"
ARCH="-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16"
CFLAGS="$ARCH -Os -std=c11 -ffunction-sections -fdata-sections -ffreestanding \
        -fno-tree-loop-distribute-patterns -Wall -Wextra -Werror -Wno-cast-function-type"
LDFLAGS="$ARCH -nostartfiles -nostdlib -T $CAM/link.ld -Wl,--gc-sections -Wl,--no-warn-execstack"
BOARD="$CAM/startup.c $CAM/semihost.c $CAM/libc_min.c"

arm-none-eabi-gcc $CFLAGS -I"$CAM" $LDFLAGS -o "$OUT/measure-base.elf" \
    "$HERE/measure.c" $BOARD -lgcc
arm-none-eabi-gcc $CFLAGS -DWITH_LIB -I"$CAM" -I"$HERE/../include" $LDFLAGS \
    -o "$OUT/measure-lib.elf" "$HERE/measure.c" $BOARD "$LIB" -lgcc

# Berkeley format: text data bss dec hex filename.
set -- $(arm-none-eabi-size "$OUT/measure-base.elf" | awk 'NR==2 {print $1, $2, $3}')
bt=$1 bd=$2 bb=$3
set -- $(arm-none-eabi-size "$OUT/measure-lib.elf" | awk 'NR==2 {print $1, $2, $3}')
lt=$1 ld=$2 lb=$3

# The storage the C side must reserve, as the target computes it.
storage=$(timeout 20 qemu-system-arm -M mps2-an500 -display none -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$OUT/measure-lib.elf" </dev/null 2>&1 |
    sed -n 's/^storage_size=0x\([0-9a-f]*\).*/\1/p')
[ -n "$storage" ] || { echo "measure.sh: the probe printed no storage size" >&2; exit 1; }
storage=$((0x$storage))

flash=$(( (lt + ld) - (bt + bd) ))
ram_lib=$(( (ld + lb) - (bd + bb) ))
ram=$(( storage + ram_lib ))
text_only=$(( lt - bt ))
report() {
    echo "firmware engine size (thumbv7em-none-eabihf, profile firmware, every export kept, --gc-sections)"
    echo "  flash: $flash bytes ($(( (flash + 1023) / 1024 )) KiB; text+rodata $text_only, data $(( ld - bd ))), budget 24576"
    echo "  static RAM: $ram bytes = storage $storage + library .data/.bss $ram_lib, budget 10240"
    echo "  (probe image with the engine: text $lt data $ld bss $lb; without: text $bt data $bd bss $bb)"
}
report
[ -z "$SUMMARY" ] || report >"$SUMMARY"
status=0
[ "$flash" -le 24576 ] || { echo "measure.sh: flash over budget" >&2; status=1; }
[ "$ram" -le 10240 ] || { echo "measure.sh: RAM over budget" >&2; status=1; }
exit $status
