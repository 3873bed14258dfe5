# Sourced by size/measure.sh and cam2cam/size.sh (with CAM set to firmware/qemu-cam): how the
# size probe (size/probe.c) is compiled, linked, checked and run, the same for every figure.
# newlib's memory routines are linked first (-u makes the linker take them from libc.a before
# it reaches the staticlib), so compiler-builtins' weak copies are never pulled in.
ARCH="-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16"
PROBE_CFLAGS="$ARCH -Os -std=c11 -ffunction-sections -fdata-sections -ffreestanding -Wall -Wextra -Werror"
LDFLAGS="$ARCH -nostartfiles -nostdlib -T $CAM/link.ld -Wl,--gc-sections -Wl,--no-warn-execstack"
BOARD="$CAM/startup.c $CAM/semihost.c"
MEMSYMS="memcpy memmove memset memcmp __aeabi_memcpy __aeabi_memcpy4 __aeabi_memcpy8 \
         __aeabi_memmove __aeabi_memmove4 __aeabi_memmove8 __aeabi_memset __aeabi_memset4 \
         __aeabi_memset8 __aeabi_memclr __aeabi_memclr4 __aeabi_memclr8"
UNDEF=$(for s in $MEMSYMS; do printf -- '-Wl,-u,%s ' "$s"; done)
PROBE=$(cd "$(dirname "$CAM")" && pwd)/size/probe.c

# fmt_symbols ELF: how many formatting (core::fmt) symbols the image holds; a probe with the
# engine must hold none (its panic handler formats nothing).
fmt_symbols() {
    arm-none-eabi-nm -C "$1" | grep -c -E 'core::fmt' || true
}

# probe_value ELF KEY: a number the probe prints as KEY=0x... under QEMU (the target's own
# view, e.g. a storage size).
probe_value() {
    v=$(timeout 20 qemu-system-arm -M mps2-an500 -display none -monitor none -serial none \
        -semihosting-config enable=on,target=native -kernel "$1" </dev/null 2>&1 |
        sed -n "s/^$2=0x\([0-9a-f]*\).*/\1/p")
    [ -n "$v" ] || { echo "the size probe printed no $2" >&2; exit 1; }
    echo $((0x$v))
}
