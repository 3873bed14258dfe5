#!/bin/bash
# Flash and static RAM of the host role alone and of both roles in one image, measured as
# firmware/size/measure.sh measures the device role: size/probe.c linked with --gc-sections
# against the staticlib (built with the `host` feature) keeping every export of the roles
# asked for, minus the same probe without the library; memcpy & co. from newlib in both
# images (counted apart); no formatting code allowed. Static RAM = the instance storage
# (printed by the probe under QEMU) + the library's own .data/.bss.
#   size.sh LIB.a OUTDIR      writes OUTDIR/figures (shell variables) and prints a table
set -euo pipefail
LIB=$1 OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
CAM=$HERE/../qemu-cam
mkdir -p "$OUT"
. "$HERE/../size/link-env.sh"
CFLAGS=$PROBE_CFLAGS

# link NAME DEFINES...: the probe with those roles kept (none: the base image).
link() {
    local name=$1
    shift
    # shellcheck disable=SC2086
    arm-none-eabi-gcc $CFLAGS "$@" -DOMV_FW_HOST -I"$CAM" -I"$HERE/../include" $LDFLAGS $UNDEF \
        -Wl,-Map="$OUT/$name.map" -o "$OUT/$name.elf" "$PROBE" $BOARD -lc "$LIB" -lc -lgcc
    if [ "$name" != base ] && [ "$(fmt_symbols "$OUT/$name.elf")" != 0 ]; then
        echo "size.sh: the $name image holds formatting code" >&2
        exit 1
    fi
}
sizes() { arm-none-eabi-size "$OUT/$1.elf" | awk 'NR==2 {print $1, $2, $3}'; }

link base
link host -DWITH_HOST
link device -DWITH_DEVICE
link both -DWITH_HOST -DWITH_DEVICE
read -r bt bd bb < <(sizes base)
declare -A flash ram
for n in host device both; do
    read -r t d b < <(sizes $n)
    flash[$n]=$(( (t + d) - (bt + bd) ))
    ram[$n]=$(( (d + b) - (bd + bb) ))
done
host_storage=$(probe_value "$OUT/both.elf" host_storage)
device_storage=$(probe_value "$OUT/both.elf" device_storage)
printf 'host_flash=%s\ndevice_flash=%s\nboth_flash=%s\nhost_storage=%s\ndevice_storage=%s\nram_lib_host=%s\nram_lib_both=%s\n' \
    "${flash[host]}" "${flash[device]}" "${flash[both]}" "$host_storage" "$device_storage" \
    "${ram[host]}" "${ram[both]}" >"$OUT/figures"
echo "host role size (thumbv7em-none-eabihf, profile firmware: opt-level s, the engine crate at 1 before LTO, LTO, panic=abort;"
echo "every export of the role kept, --gc-sections; memcpy & co. from newlib, not counted)"
printf '  %-40s %10s %14s\n' "" "flash (B)" "static RAM (B)"
printf '  %-40s %10d %14d\n' "host role alone" "${flash[host]}" $((host_storage + ram[host]))
printf '  %-40s %10d %14d\n' "device role alone (same library)" "${flash[device]}" $((device_storage + ram[device]))
printf '  %-40s %10d %14d\n' "both roles in one image" "${flash[both]}" $((host_storage + device_storage + ram[both]))
echo "  static RAM = instance storage (host $host_storage B, device $device_storage B) + library .data/.bss" \
    "(${ram[host]} B host alone, ${ram[both]} B both); host buffers: OMV_FW_HOST_PACKET_BUF=1024," \
    "OMV_FW_HOST_TX_BUF=1104, 8 events"
