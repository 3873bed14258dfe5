#!/bin/sh
# Where the engine's flash goes, by source function: the `cargo bloat` view for an LTO'd,
# inlined image. Builds the hw-crc staticlib as firmware/test.sh does, but with line tables
# (debug info changes no code: the flash figure is the test's), links it with measure.sh, and
# gives every instruction of the library to the innermost inlined frame in this repository
# (llvm-addr2line -i). Prints bytes per source file and per function, largest first.
#   firmware/size/attribute.sh [FEATURES]     (default hw-crc; "" for the software CRC build)
# Needs llvm-addr2line (package llvm) besides what measure.sh needs; python3.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
FEATURES=${1-hw-crc}
TARGET=thumbv7em-none-eabihf
DIR=$CARGO_TARGET_DIR/fw-lto-attribute
OUT=$CARGO_TARGET_DIR/firmware-test/attribute
command -v llvm-addr2line >/dev/null || { echo "attribute.sh: llvm-addr2line missing" >&2; exit 1; }
cd "$ROOT"
CARGO_PROFILE_FIRMWARE_DEBUG=line-tables-only cargo rustc -q -p openmvproto-firmware --profile firmware \
    --target "$TARGET" ${FEATURES:+--features "$FEATURES"} --crate-type staticlib --target-dir "$DIR"
"$HERE/measure.sh" "$DIR/$TARGET/firmware/libopenmvproto_firmware.a" "$OUT" | head -1
timeout 120 python3 - "$OUT/measure-lib.elf" "$OUT/measure-base.elf" "$ROOT/" <<'EOF'
import collections, re, subprocess, sys
elf, base_elf, root = sys.argv[1:4]
def run(*cmd, inp=None):
    return subprocess.run(cmd, input=inp, capture_output=True, text=True, check=True).stdout
# Functions of the image without the engine (startup, newlib) are not the engine's.
base = {l.split()[-1] for l in run('arm-none-eabi-nm', base_elf).splitlines()}
insns, cur = [], None
for line in run('arm-none-eabi-objdump', '-d', elf).splitlines():
    m = re.match(r'^([0-9a-f]+) <(.*)>:$', line)
    if m:
        cur = m.group(2)
        continue
    m = re.match(r'^\s+([0-9a-f]+):\t([0-9a-f ]+)\t', line)
    if m and cur and cur not in base:
        insns.append((int(m.group(1), 16), len(m.group(2).replace(' ', '')) // 2))
frames = run('llvm-addr2line', '-e', elf, '-f', '-C', '-i', '-a', inp='\n'.join(hex(a) for a, _ in insns))
by_file, by_fn = collections.Counter(), collections.Counter()
for (_, n), block in zip(insns, frames.split('0x')[1:]):
    lines = block.strip().splitlines()[1:]
    pairs = [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]
    own = [(f, loc) for f, loc in pairs if loc.startswith(root)]
    if not own:
        by_file['(core, compiler)'] += n
        by_fn['(core, compiler) ' + (pairs[0][0] if pairs else '?')] += n
        continue
    f, loc = own[0]
    path = loc[len(root):].split(':')[0]
    by_file[path] += n
    by_fn[re.sub(r'::h[0-9a-f]{16}$', '', f) + '  (' + path + ')'] += n
print(f'  {sum(by_file.values())} B of engine code (literal pools and jump tables not counted)')
print('  by file:')
for k, v in by_file.most_common():
    print(f'    {v:6} {k}')
print('  by function (innermost frame in this repository), top 40:')
for k, v in by_fn.most_common(40):
    print(f'    {v:6} {k}')
EOF
